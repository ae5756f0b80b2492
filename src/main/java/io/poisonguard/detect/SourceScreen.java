package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.lit;

import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Provenance: flags every row of a source (feed) whose share of suspect rows stands out against the other
 * sources, with the reason {@code source:feed=NAME,suspect_share=0.31,others=0.04}.
 *
 * <p>A row is suspect when its combined tail probability is at most {@value #SUSPECT_FACTOR} times the target
 * false-positive rate: a looser level than flagging, so a feed whose rows are each only mildly odd still adds
 * up. One tally per source and partition over the scored (cached) batch reaches the driver.
 * A source s with x suspect rows out of n is tested against the pooled rate r of all other sources with the
 * Chernoff bound P(Bin(n, r) ≥ x) ≤ exp(−n · KL(x/n ‖ r)) (an upper bound, so conservative), times the number
 * of sources; it is flagged when that is at most the target rate and its share is at least
 * {@value #MIN_RATIO} times r (real feeds differ a little; the guard acts on feeds that differ a lot). Its
 * rows are flagged by {@link SourceFinding#flagRows}. With fewer than two sources nothing changes.
 *
 * <p>With more than {@value #MAX_SOURCES} sources the screen is skipped and says so: a source column with that many
 * values names something finer than a feed (a user, a device, a row), and its tallies would bring a row per value
 * to the driver. A partition stops tallying once it has seen more than that many sources.
 */
public final class SourceScreen {
  /** Suspect level as a multiple of the target false-positive rate. */
  static final double SUSPECT_FACTOR = 10;
  /** Smallest ratio of a flagged source's suspect share to the other sources' share. */
  static final double MIN_RATIO = 2;
  /** Reason code. */
  public static final String CODE = "source";
  /** Most sources screened; a batch with more is not screened. */
  public static final int MAX_SOURCES = 1000;

  private SourceScreen() {}

  /**
   * A source's verdict: its counts, the others' suspect share and the corrected bound.
   *
   * @param source the source
   * @param rows its rows
   * @param suspect its suspect rows
   * @param flaggedRows its rows flagged on their own evidence, before any verdict on a whole source
   * @param othersShare the pooled suspect share of the other sources
   * @param pValue the corrected bound
   * @param flagged whether every row of the source is flagged
   */
  public record Verdict(String source, long rows, long suspect, long flaggedRows, double othersShare, double pValue,
      boolean flagged) implements SourceFinding {
    @Override
    public String reason() {
      return String.format(Locale.ROOT, "%s:feed=%s,suspect_share=%.3f,others=%.3f", CODE, source,
          (double) suspect / rows, othersShare);
    }
  }

  /**
   * What the screen found.
   *
   * @param verdicts one verdict per source, by source name; empty when skipped
   * @param skipped why the screen was skipped, or null
   */
  public record Screened(List<Verdict> verdicts, String skipped) {}

  /**
   * Judges the sources of a scored batch (the output of {@link PoisonScorer.Fitted#transform}, cached: it is
   * read once here and again by whatever uses the result).
   */
  public static Screened judge(Dataset<Row> scored, double targetFpr) {
    if (!Arrays.asList(scored.columns()).contains(Columns.SOURCE)) {
      return new Screened(List.of(), null);
    }
    double level = Math.min(1.0, SUSPECT_FACTOR * targetFpr);
    Column suspect = lit(1.0).minus(col(Columns.POISON_SCORE)).leq(level);
    List<Row> perSource = tally(scored.select(col(Columns.SOURCE), suspect, col(Columns.FLAGGED)));
    if (perSource == null) {
      return new Screened(List.of(), "more than " + MAX_SOURCES + " sources; input.source should name the feed "
          + "each row came from");
    }
    int sources = perSource.size();
    long totalRows = 0;
    long totalSuspect = 0;
    for (Row r : perSource) {
      totalRows += r.getLong(1);
      totalSuspect += r.getLong(2);
    }
    List<Verdict> verdicts = new ArrayList<>();
    for (Row r : perSource) {
      String name = r.isNullAt(0) ? null : r.getString(0);
      long n = r.getLong(1);
      long x = r.getLong(2);
      long flaggedRows = r.getLong(3);
      long otherRows = totalRows - n;
      if (sources < 2 || otherRows == 0) {
        verdicts.add(new Verdict(name, n, x, flaggedRows, Double.NaN, 1.0, false));
        continue;
      }
      // Half a row added to the others keeps their share above zero when none of their rows is suspect.
      double others = (totalSuspect - x + 0.5) / (otherRows + 1.0);
      double share = (double) x / n;
      double bound = share <= others ? 1.0 : Math.exp(-n * divergence(share, others));
      double corrected = Math.min(1.0, bound * sources);
      verdicts.add(new Verdict(name, n, x, flaggedRows, others, corrected,
          corrected <= targetFpr && share >= MIN_RATIO * others));
    }
    return new Screened(verdicts, null);
  }

  /**
   * Per source in order (null first), its rows, suspect rows and flagged rows, from rows of (source, suspect,
   * flagged). Tallied per partition and merged here, one row per source and partition, instead of grouped: the scored
   * batch is cached and this is its first reader, and adaptive execution runs a query with a shuffle over a cache not
   * yet filled as two jobs, one that fills it and one that reads it back for the shuffle. At 1M rows that second read
   * took 1.3 s (event log of bench/scale). Without a shuffle, the tasks that fill the cache also tally.
   * Null when there are more than {@value #MAX_SOURCES} sources: a partition that sees more returns one row, its
   * count −1, instead of its tallies, so the driver gets at most that many rows per partition.
   */
  private static List<Row> tally(Dataset<Row> flags) {
    StructType schema = new StructType().add("source", DataTypes.StringType).add("rows", DataTypes.LongType)
        .add("suspect", DataTypes.LongType).add("flagged", DataTypes.LongType);
    List<Row> partial = flags.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> {
      Map<String, long[]> counts = new HashMap<>();
      while (rows.hasNext()) {
        Row r = rows.next();
        long[] c = counts.computeIfAbsent(r.getString(0), source -> new long[3]);
        if (counts.size() > MAX_SOURCES) {
          // read to the end all the same: this task may be filling the batch's cache
          rows.forEachRemaining(rest -> { });
          return List.of(RowFactory.create(null, -1L, 0L, 0L)).iterator();
        }
        c[0]++;
        // a null score or flag counts as neither
        c[1] += !r.isNullAt(1) && r.getBoolean(1) ? 1 : 0;
        c[2] += !r.isNullAt(2) && r.getBoolean(2) ? 1 : 0;
      }
      List<Row> out = new ArrayList<>();
      counts.forEach((source, c) -> out.add(RowFactory.create(source, c[0], c[1], c[2])));
      return out.iterator();
    }, Encoders.row(schema)).collectAsList();
    Map<String, long[]> total = new TreeMap<>(Comparator.nullsFirst(Comparator.naturalOrder()));
    for (Row r : partial) {
      if (r.getLong(1) < 0) {
        return null;
      }
      long[] c = total.computeIfAbsent(r.getString(0), source -> new long[3]);
      for (int i = 0; i < 3; i++) {
        c[i] += r.getLong(i + 1);
      }
    }
    if (total.size() > MAX_SOURCES) {
      return null;
    }
    List<Row> perSource = new ArrayList<>();
    total.forEach((source, c) -> perSource.add(RowFactory.create(source, c[0], c[1], c[2])));
    return perSource;
  }

  /** Kullback–Leibler divergence between Bernoulli(a) and Bernoulli(b). */
  private static double divergence(double a, double b) {
    double d = 0;
    if (a > 0) {
      d += a * Math.log(a / b);
    }
    if (a < 1) {
      d += (1 - a) * Math.log((1 - a) / (1 - b));
    }
    return d;
  }
}
