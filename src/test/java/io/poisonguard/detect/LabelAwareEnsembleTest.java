package io.poisonguard.detect;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.DetectConfig;
import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/** The calibrated ensemble with every registered detector on its defaults, against 10% random label flips. */
class LabelAwareEnsembleTest extends OnSpambase {
  private static final long SEED = 7;

  @Test
  void batchModeEnsembleFindsRandomFlips() {
    Dataset<Row> batch = Spambase.flip(data.clean, 0.10, 41).cache();
    PoisonScorer.Fitted fitted = PoisonScorer.fit(batch, data.schema, DetectConfig.defaults(), SEED, false);
    assertTrue(fitted.detectorCodes().containsAll(List.of("label_consistency", "knn_label", "influence")),
        fitted.detectorCodes().toString());
    // Below the trusted figure: batch calibration trusts only the bulk up to q90, and 10% flips fill the rest,
    // so few flips reach the corrected 1% level (measured recall 2%); the ranking still holds.
    check("batch mode", fitted.transform(batch), 0.85, false);
    batch.unpersist();
  }

  @Test
  void trustedFitEnsembleFindsRandomFlipsInTheOtherHalf() {
    Dataset<Row>[] halves = data.clean.randomSplit(new double[] {0.5, 0.5}, SEED);
    PoisonScorer.Fitted fitted = PoisonScorer.fit(halves[0], data.schema, DetectConfig.defaults(), SEED, true);
    check("trusted half -> other half", fitted.transform(Spambase.flip(halves[1], 0.10, 42)), 0.95, true);
  }

  @Test
  void aLabelTheTrustedDataNeverHadIsFlaggedAndSaysSo() {
    Dataset<Row>[] halves = data.clean.randomSplit(new double[] {0.5, 0.5}, SEED);
    PoisonScorer.Fitted fitted = PoisonScorer.fit(halves[0], data.schema, DetectConfig.defaults(), SEED, true);
    Column relabelled = functions.pmod(functions.xxhash64(col(Columns.ID)), functions.lit(100L)).equalTo(0);
    String label = data.schema.labelColumn();
    Dataset<Row> batch = halves[1].withColumn(label, functions.when(relabelled, functions.lit("phishing"))
        .otherwise(col(label))).withColumn("relabelled", relabelled);
    Dataset<Row> scored = fitted.transform(batch).where(col("relabelled")).cache();
    long rows = scored.count();
    assertTrue(rows > 5, rows + " relabelled rows");
    assertEquals(rows, scored.where(col(Columns.FLAGGED)
        .and(col(Columns.POISON_SCORE).equalTo(1.0))
        .and(functions.element_at(col(Columns.REASONS), 1).equalTo(PoisonScorer.UNSEEN_LABEL + ":given=phishing")))
        .count());
    scored.unpersist();
  }

  private static void check(String mode, Dataset<Row> scored, double minAuc, boolean labelReasonsExpected) {
    scored = scored.cache();
    double auc = Spambase.auc(scored, Columns.POISON_SCORE, Spambase.FLIPPED);
    double recall = rate(scored.where(col(Spambase.FLIPPED)));
    double fpr = rate(scored.where(not(col(Spambase.FLIPPED))));
    long labelReasons = scored.where(col(Spambase.FLIPPED).and(col(Columns.FLAGGED)))
        .where("exists(" + Columns.REASONS + ", r -> r like 'label_consistency:%' or r like 'knn_label:%'"
            + " or r like 'influence:%' or r like 'spectral:%' or r like 'mahalanobis:%' or r like 'duplicates:%')")
        .count();
    long flaggedFlips = scored.where(col(Spambase.FLIPPED).and(col(Columns.FLAGGED))).count();
    System.out.printf("ensemble, 10%% flips, %s: ROC-AUC %.4f, recall at 1%% target %.4f, clean flagged %.4f,"
        + " flagged flips with a label-aware reason %d/%d%n", mode, auc, recall, fpr, labelReasons, flaggedFlips);
    assertTrue(auc >= minAuc, "AUC " + auc);
    // Target 1%. Measured with eight detectors: 0.5% in batch mode (Simes), 0.8% when a 2300-row trusted half
    // calibrates out of fold and the enrichment weighting combines (recall 0.71, ROC-AUC 0.97).
    assertTrue(fpr <= 0.025, "false-positive rate " + fpr);
    if (labelReasonsExpected) {
      assertTrue(labelReasons >= 0.9 * flaggedFlips, labelReasons + " of " + flaggedFlips);
    }
    scored.unpersist();
  }

  private static double rate(Dataset<Row> rows) {
    return rows.agg(avg(col(Columns.FLAGGED).cast("double"))).first().getDouble(0);
  }
}
