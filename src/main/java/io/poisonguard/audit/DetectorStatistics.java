package io.poisonguard.audit;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.exists;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import io.poisonguard.spark.Columns;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Per-detector statistics of one scored batch, kept in {@code _audit/detector_stats}: how many rows each detector
 * scored and fired on, the quantiles of its score, the lowest score it fired at, and a histogram of its score for
 * kept and for quarantined rows (what the report draws). The combined poison score is recorded the same way under
 * the name {@value #COMBINED}. Two aggregations over the scored rows: ranges first, then the histogram counts.
 */
public final class DetectorStatistics {
  /** Name under which the combined poison score is recorded. */
  public static final String COMBINED = "poison_score";
  /** Histogram bins per detector. */
  public static final int BINS = 30;

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
    List<Column> firstPass = new ArrayList<>();
    firstPass.add(functions.count(lit(1)));
    for (Map.Entry<String, Boolean> d : all.entrySet()) {
      Column score = finite(scoreColumn(d.getKey()));
      Column shown = shown(score, d.getValue());
      Column fired = firedBy(d.getKey());
      firstPass.add(functions.count(score));
      firstPass.add(functions.sum(when(fired, 1L).otherwise(0L)));
      firstPass.add(functions.percentile_approx(score, lit(new double[] {0.5, 0.9, 0.99}), lit(1000)));
      firstPass.add(functions.max(score));
      firstPass.add(functions.min(when(fired, score)));
      firstPass.add(functions.min(shown));
      firstPass.add(functions.max(shown));
    }
    Row ranges = scored.agg(firstPass.get(0), firstPass.subList(1, firstPass.size()).toArray(Column[]::new)).head();

    // second pass: one (detector, bin, flagged) triple per row and detector, counted; at most detectors × bins × 2
    // groups come back
    List<Column> cells = new ArrayList<>();
    Map<String, double[]> edges = new LinkedHashMap<>();
    int at = 1;
    for (Map.Entry<String, Boolean> d : all.entrySet()) {
      Object lo = ranges.get(at + 5);
      Object hi = ranges.get(at + 6);
      at += 7;
      if (lo == null) {
        continue;
      }
      double low = ((Number) lo).doubleValue();
      double high = Math.max(((Number) hi).doubleValue(), low + 1e-12);
      double[] e = new double[BINS + 1];
      for (int b = 0; b <= BINS; b++) {
        e[b] = low + (high - low) * b / BINS;
      }
      edges.put(d.getKey(), e);
      Column shown = shown(finite(scoreColumn(d.getKey())), d.getValue());
      Column bin = functions.least(lit(BINS - 1), functions.floor(shown.minus(low).divide(high - low).multiply(BINS))
          .cast("int"));
      cells.add(struct(lit(d.getKey()).as("d"), bin.as("b")));
    }
    Map<String, long[][]> counts = new LinkedHashMap<>();
    edges.keySet().forEach(k -> counts.put(k, new long[2][BINS]));
    if (!cells.isEmpty()) {
      List<Row> grouped = scored
          .select(explode(array(cells.toArray(Column[]::new))).as("c"), Columns.col(Columns.FLAGGED).as("f"))
          .where(functions.col("c.b").isNotNull())
          .groupBy(functions.col("c.d"), functions.col("c.b"), functions.col("f")).count()
          .collectAsList();
      for (Row g : grouped) {
        counts.get(g.getString(0))[g.getBoolean(2) ? 1 : 0][g.getInt(1)] += g.getLong(3);
      }
    }

    Timestamp now = Timestamp.from(Instant.now());
    List<Row> rows = new ArrayList<>();
    at = 1;
    long total = ranges.getLong(0);
    for (Map.Entry<String, Boolean> d : all.entrySet()) {
      List<?> q = ranges.isNullAt(at + 2) ? null : ranges.getList(at + 2);
      double[] e = edges.getOrDefault(d.getKey(), new double[0]);
      long[][] c = counts.getOrDefault(d.getKey(), new long[2][0]);
      // a sum over no rows is null
      long fired = ranges.isNullAt(at + 1) ? 0L : ranges.getLong(at + 1);
      rows.add(RowFactory.create(runId, pipeline, d.getKey(), total, ranges.getLong(at), fired,
          q == null ? null : ((Number) q.get(0)).doubleValue(), q == null ? null : ((Number) q.get(1)).doubleValue(),
          q == null ? null : ((Number) q.get(2)).doubleValue(), ranges.get(at + 3), ranges.get(at + 4),
          d.getValue(), seq(e), seq(c[0]), seq(c[1]), now));
      at += 7;
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** The raw score column of a detector, or the combined score. */
  private static Column scoreColumn(String code) {
    return Columns.col(COMBINED.equals(code) ? Columns.POISON_SCORE : Columns.PREFIX + "score_" + code);
  }

  /** Whether a row's reasons name the detector (for the combined score: whether the row is flagged). */
  private static Column firedBy(String code) {
    return COMBINED.equals(code) ? Columns.col(Columns.FLAGGED)
        : exists(Columns.col(Columns.REASONS), r -> r.startsWith(code + ":"));
  }

  private static Column finite(Column score) {
    return when(score.isNotNull().and(functions.not(isnan(score))), score);
  }

  /** The score on its display scale: signed log10(1+|x|) for unbounded scores. */
  private static Column shown(Column score, boolean logScale) {
    return logScale ? functions.signum(score).multiply(functions.log10(functions.abs(score).plus(1))) : score;
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
