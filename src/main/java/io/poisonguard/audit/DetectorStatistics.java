package io.poisonguard.audit;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.OrderedAggregate;
import io.poisonguard.spark.QuantileSketch;
import java.io.Serializable;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Per-detector statistics of one scored batch, kept in {@code _audit/detector_stats}: how many rows each detector
 * scored and fired on, the quantiles of its score, the lowest score it fired at, and a histogram of its score for
 * kept and for quarantined rows (what the report draws). The combined poison score is recorded the same way under
 * the name {@value #COMBINED}. Two passes over the scored rows, each folding every detector at once in the JVM:
 * counts, ranges and a quantile sketch ({@link QuantileSketch}, merged in partition order) first, then the histogram
 * counts. As Spark aggregations (nine {@code percentile_approx} and eight {@code exists} over the reasons, then an
 * {@code explode} and a {@code groupBy}) the same statistics took 3.0 and 0.9 s of a 1M-row run, folded in the JVM
 * 0.8 and 0.3 s (Spark's job times in the event log of the 1M-row scale guard).
 */
public final class DetectorStatistics {
  /** Name under which the combined poison score is recorded. */
  public static final String COMBINED = "poison_score";
  /** Histogram bins per detector. */
  public static final int BINS = 30;
  private static final double[] QUANTILES = {0.5, 0.9, 0.99};
  /** Partial results merged in one place: each holds a quantile sketch per detector, some hundreds of KiB. */
  private static final int FAN_IN = 16;

  /** Schema of {@code _audit/detector_stats}. */
  public static final StructType SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType, false)
      .add("pipeline", DataTypes.StringType, false)
      .add("detector", DataTypes.StringType, false)
      .add("rows", DataTypes.LongType, false)
      .add("scored", DataTypes.LongType, false)
      .add("fired", DataTypes.LongType, false)
      .add("p50", DataTypes.DoubleType)
      .add("p90", DataTypes.DoubleType)
      .add("p99", DataTypes.DoubleType)
      .add("max", DataTypes.DoubleType)
      .add("lowest_fired", DataTypes.DoubleType)
      .add("log_scale", DataTypes.BooleanType, false)
      .add("bin_edges", DataTypes.createArrayType(DataTypes.DoubleType), false)
      .add("kept_counts", DataTypes.createArrayType(DataTypes.LongType), false)
      .add("quarantined_counts", DataTypes.createArrayType(DataTypes.LongType), false)
      .add("computed_at", DataTypes.TimestampType, false);

  private DetectorStatistics() {}

  /**
   * Statistics of {@code scored} (the output of detection, with {@code _pg_score_<code>}, the poison score, the
   * flag and the reasons). {@code detectors} maps each reason code to whether its score is unbounded (histogrammed
   * on a signed log scale, so one far row does not squeeze the rest into one bin).
   */
  public static Dataset<Row> compute(SparkSession spark, Dataset<Row> scored, Map<String, Boolean> detectors,
      String runId, String pipeline) {
    Map<String, Boolean> all = new LinkedHashMap<>(detectors);
    all.put(COMBINED, false);
    List<String> codes = new ArrayList<>(all.keySet());
    boolean[] logScale = new boolean[codes.size()];
    List<Column> read = new ArrayList<>();
    for (int d = 0; d < codes.size(); d++) {
      logScale[d] = all.get(codes.get(d));
      read.add(scoreColumn(codes.get(d)));
    }
    read.add(Columns.col(Columns.FLAGGED));
    read.add(Columns.col(Columns.REASONS));
    JavaRDD<Row> rows = scored.select(read.toArray(Column[]::new)).javaRDD();
    Ranges ranges = OrderedAggregate.of(rows, new Ranges(codes, logScale), Ranges::add, Ranges::merge, FAN_IN);
    double[][] edges = ranges.binEdges();
    // a second pass: the bins are known only once the ranges are
    Histograms counts = OrderedAggregate.of(rows, new Histograms(logScale, edges), Histograms::add,
        Histograms::merge);

    Timestamp now = Timestamp.from(Instant.now());
    List<Row> out = new ArrayList<>();
    for (int d = 0; d < codes.size(); d++) {
      double[] q = ranges.sketches[d].quantiles(QUANTILES);
      boolean binned = edges[d] != null;
      out.add(RowFactory.create(runId, pipeline, codes.get(d), ranges.rows, ranges.sketches[d].count(),
          ranges.fired[d], q == null ? null : q[0], q == null ? null : q[1], q == null ? null : q[2],
          q == null ? null : ranges.max[d], Double.isNaN(ranges.lowestFired[d]) ? null : ranges.lowestFired[d],
          logScale[d], seq(binned ? edges[d] : new double[0]), seq(binned ? counts.kept[d] : new long[0]),
          seq(binned ? counts.quarantined[d] : new long[0]), now));
    }
    return spark.createDataFrame(out, SCHEMA);
  }

  /** The raw score column of a detector, or the combined score. */
  private static Column scoreColumn(String code) {
    return Columns.col(COMBINED.equals(code) ? Columns.POISON_SCORE : Columns.PREFIX + "score_" + code);
  }

  /** A row's score for detector {@code d} (read at column {@code d}), NaN when it has none. */
  private static double score(Row row, int d) {
    return row.isNullAt(d) ? Double.NaN : row.getDouble(d);
  }

  /** The score on its display scale: signed log10(1+|x|) for unbounded scores. */
  private static double shown(double score, boolean logScale) {
    return logScale ? Math.signum(score) * Math.log10(Math.abs(score) + 1) : score;
  }

  /**
   * Whether a row is flagged. The rows read hold one score column per detector ({@code width} of them, the combined
   * score last), then the flag, then the reasons.
   */
  private static boolean flagged(Row row, int width) {
    return !row.isNullAt(width) && row.getBoolean(width);
  }

  /**
   * Which detectors fired on a row: those its reasons name ({@code code:evidence}), and for the combined score
   * whether the row is flagged. {@code codes} holds the detectors in column order, the combined score last.
   */
  private static boolean[] fired(Row row, List<String> codes) {
    int width = codes.size();
    boolean[] fired = new boolean[width];
    fired[width - 1] = flagged(row, width);
    if (!row.isNullAt(width + 1)) {
      for (Object reason : row.getList(width + 1)) {
        String text = (String) reason;
        int colon = text.indexOf(':');
        int d = colon < 0 ? -1 : codes.subList(0, width - 1).indexOf(text.substring(0, colon));
        if (d >= 0) {
          fired[d] = true;
        }
      }
    }
    return fired;
  }

  /** The first pass: per detector the rows scored and fired on, a quantile sketch, and the ranges. */
  private static final class Ranges implements Serializable {
    private static final long serialVersionUID = 1L;
    private final List<String> codes;
    private final boolean[] logScale;
    private long rows;
    private final long[] fired;
    private final QuantileSketch[] sketches;
    private final double[] max;
    private final double[] lowestFired;
    private final double[] lowestShown;
    private final double[] highestShown;

    Ranges(List<String> codes, boolean[] logScale) {
      int width = codes.size();
      this.codes = List.copyOf(codes);
      this.logScale = logScale;
      fired = new long[width];
      sketches = new QuantileSketch[width];
      max = filled(width, Double.NEGATIVE_INFINITY);
      lowestFired = filled(width, Double.NaN);
      lowestShown = filled(width, Double.POSITIVE_INFINITY);
      highestShown = filled(width, Double.NEGATIVE_INFINITY);
      for (int d = 0; d < width; d++) {
        sketches[d] = new QuantileSketch();
      }
    }

    Ranges add(Row row) {
      rows++;
      boolean[] firedOn = fired(row, codes);
      for (int d = 0; d < sketches.length; d++) {
        double s = score(row, d);
        if (firedOn[d]) {
          fired[d]++;
        }
        if (Double.isNaN(s)) {
          continue;
        }
        sketches[d].update(s);
        max[d] = Math.max(max[d], s);
        if (firedOn[d] && !(lowestFired[d] <= s)) {
          lowestFired[d] = s;
        }
        double shown = shown(s, logScale[d]);
        lowestShown[d] = Math.min(lowestShown[d], shown);
        highestShown[d] = Math.max(highestShown[d], shown);
      }
      return this;
    }

    Ranges merge(Ranges other) {
      rows += other.rows;
      for (int d = 0; d < sketches.length; d++) {
        fired[d] += other.fired[d];
        sketches[d].merge(other.sketches[d]);
        max[d] = Math.max(max[d], other.max[d]);
        if (!Double.isNaN(other.lowestFired[d]) && !(lowestFired[d] <= other.lowestFired[d])) {
          lowestFired[d] = other.lowestFired[d];
        }
        lowestShown[d] = Math.min(lowestShown[d], other.lowestShown[d]);
        highestShown[d] = Math.max(highestShown[d], other.highestShown[d]);
      }
      return this;
    }

    /** Per detector the {@value #BINS} + 1 edges of its histogram on the display scale, null if it scored none. */
    double[][] binEdges() {
      double[][] edges = new double[sketches.length][];
      for (int d = 0; d < sketches.length; d++) {
        if (sketches[d].isEmpty()) {
          continue;
        }
        double low = lowestShown[d];
        double high = Math.max(highestShown[d], low + 1e-12);
        edges[d] = new double[BINS + 1];
        for (int b = 0; b < BINS; b++) {
          edges[d][b] = low + (high - low) * b / BINS;
        }
        // the last edge is the top of the range itself, which the binning divides by
        edges[d][BINS] = high;
      }
      return edges;
    }
  }

  /** The second pass: per detector its scored rows counted by bin, kept and quarantined apart. */
  private static final class Histograms implements Serializable {
    private static final long serialVersionUID = 1L;
    private final boolean[] logScale;
    private final double[][] edges;
    private final long[][] kept;
    private final long[][] quarantined;

    Histograms(boolean[] logScale, double[][] edges) {
      this.logScale = logScale;
      this.edges = edges;
      kept = new long[edges.length][BINS];
      quarantined = new long[edges.length][BINS];
    }

    Histograms add(Row row) {
      boolean flagged = flagged(row, edges.length);
      for (int d = 0; d < edges.length; d++) {
        double s = score(row, d);
        if (edges[d] == null || Double.isNaN(s)) {
          continue;
        }
        double low = edges[d][0];
        double width = edges[d][BINS] - low;
        int bin = Math.min(BINS - 1, (int) Math.floor((shown(s, logScale[d]) - low) / width * BINS));
        (flagged ? quarantined : kept)[d][bin]++;
      }
      return this;
    }

    Histograms merge(Histograms other) {
      for (int d = 0; d < edges.length; d++) {
        for (int b = 0; b < BINS; b++) {
          kept[d][b] += other.kept[d][b];
          quarantined[d][b] += other.quarantined[d][b];
        }
      }
      return this;
    }
  }

  private static double[] filled(int width, double value) {
    double[] a = new double[width];
    Arrays.fill(a, value);
    return a;
  }

  private static Object seq(double[] values) {
    List<Double> list = new ArrayList<>();
    for (double v : values) {
      list.add(v);
    }
    return scala.jdk.javaapi.CollectionConverters.asScala(list).toSeq();
  }

  private static Object seq(long[] values) {
    List<Long> list = new ArrayList<>();
    for (long v : values) {
      list.add(v);
    }
    return scala.jdk.javaapi.CollectionConverters.asScala(list).toSeq();
  }
}
