package io.poisonguard.evaluate;

import io.poisonguard.spark.ColumnQuantiles;
import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import scala.Tuple2;

/**
 * Measures a detector score against ground truth, distributively: ROC and PR areas from MLlib's exact binary
 * metrics, recall at a false-positive rate from the clean rows' approximate quantiles, and the flag's confusion
 * counts from one aggregation. Ties in a score count as half right, as the ROC area defines; a missing or NaN
 * score (a detector with no evidence on that row) ranks below every real score.
 */
public final class DetectionEvaluator {
  private static final double NO_EVIDENCE = -Double.MAX_VALUE;
  /** Accuracy of the clean-score quantiles: rank error about 2/k = 0.02%, exact up to k clean rows. */
  private static final int QUANTILE_SKETCH_K = 10_000;

  private DetectionEvaluator() {}

  /**
   * Metrics of {@code scoreCol} (higher = more suspect) against the boolean {@code truthCol}; the flag figures
   * come from the boolean {@code flaggedCol}, or are NaN when it is null.
   */
  public static DetectionMetrics evaluate(Dataset<Row> rows, String scoreCol, String flaggedCol, String truthCol) {
    // A missing or NaN score is no evidence: it ranks below every real score.
    Column score = functions.nanvl(functions.coalesce(Columns.col(scoreCol).cast("double"),
        functions.lit(NO_EVIDENCE)), functions.lit(NO_EVIDENCE));
    Column truth = Columns.col(truthCol).cast("boolean");
    Dataset<Row> pairs = rows.select(score.as("s"), truth.as("t"),
        flaggedCol == null ? functions.lit(null).cast("boolean").as("f") : Columns.col(flaggedCol).cast("boolean")
            .as("f"));
    BinaryClassificationMetrics curves = new BinaryClassificationMetrics(pairs.toJavaRDD()
        .map(r -> new Tuple2<Object, Object>(r.getDouble(0), r.getBoolean(1) ? 1.0 : 0.0)).rdd());
    double rocAuc = curves.areaUnderROC();
    double prAuc = curves.areaUnderPR();
    curves.unpersist();
    // merged in partition order, so the same scores give the same cut however they are partitioned
    double[] cleanQuantiles = ColumnQuantiles.of(pairs.filter(functions.not(functions.col("t"))),
        List.of(functions.col("s")), new double[] {0.95, 0.99}, QUANTILE_SKETCH_K)[0];
    Column clean = functions.not(functions.col("t"));
    Row counts = pairs.agg(
        countIf(functions.col("t")),
        countIf(functions.col("t").and(functions.col("f"))),
        countIf(clean.and(functions.col("f"))),
        countIf(clean),
        countIf(functions.col("t").and(functions.col("s").gt(cleanQuantiles[1]))),
        countIf(functions.col("t").and(functions.col("s").equalTo(cleanQuantiles[1]))),
        countIf(clean.and(functions.col("s").gt(cleanQuantiles[1]))),
        countIf(clean.and(functions.col("s").equalTo(cleanQuantiles[1]))),
        countIf(functions.col("t").and(functions.col("s").gt(cleanQuantiles[0]))),
        countIf(functions.col("t").and(functions.col("s").equalTo(cleanQuantiles[0]))),
        countIf(clean.and(functions.col("s").gt(cleanQuantiles[0]))),
        countIf(clean.and(functions.col("s").equalTo(cleanQuantiles[0])))).head();
    double positives = counts.getLong(0);
    double truePositives = counts.getLong(1);
    double falsePositives = counts.getLong(2);
    double negatives = counts.getLong(3);
    double precision = flaggedCol == null || truePositives + falsePositives == 0 ? Double.NaN
        : truePositives / (truePositives + falsePositives);
    double recall = flaggedCol == null || positives == 0 ? Double.NaN : truePositives / positives;
    double f1 = Double.isNaN(precision) || Double.isNaN(recall) || precision + recall == 0 ? Double.NaN
        : 2 * precision * recall / (precision + recall);
    return new DetectionMetrics(rocAuc, prAuc, recallAt(0.01, counts, 4, positives, negatives),
        recallAt(0.05, counts, 8, positives, negatives), precision, recall, f1,
        flaggedCol == null || negatives == 0 ? Double.NaN : falsePositives / negatives);
  }

  /**
   * Recall where the ROC curve crosses the false-positive rate {@code fpr}: rows above the threshold count, and
   * of the rows tied at it the share that keeps the clean rows' rate at {@code fpr} (ties broken at random, in
   * expectation) — a saturated score that ties many rows at its maximum gets no credit it has not earned.
   */
  private static double recallAt(double fpr, Row counts, int offset, double positives, double negatives) {
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    double budget = fpr * negatives - counts.getLong(offset + 2);
    long cleanTied = counts.getLong(offset + 3);
    double tiedShare = cleanTied == 0 ? 0 : Math.max(0, Math.min(1, budget / cleanTied));
    return (counts.getLong(offset) + tiedShare * counts.getLong(offset + 1)) / positives;
  }

  private static Column countIf(Column condition) {
    return functions.sum(functions.when(condition, 1L).otherwise(0L));
  }
}
