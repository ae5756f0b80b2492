package io.poisonguard.detect;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.DetectConfig;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The one-pass batch fit ({@link PoisonScorer#fitAndScore} without trusted data) against the two-pass one it
 * replaces ({@link PoisonScorer#fit} on the batch, then {@link PoisonScorer.Fitted#transform} of the same batch),
 * on Spambase with 10% of its labels flipped so that every detector and the combination have work to do.
 */
@ExtendWith(SharedSpark.class)
class FitAndScoreTest {
  private static final long SEED = 7;
  private static final double TOLERANCE = 1e-12;

  @Test
  void oneScoringPassGivesTheTwoPassOutput(SparkSession spark) {
    Spambase data = Spambase.load(spark);
    try {
      Quality q = assertOnePassMatchesTwoPass(data, DetectConfig.defaults());
      assertTrue(q.auc() > 0.9, "ensemble ROC-AUC on the flipped rows " + q.auc());
    } finally {
      data.release();
    }
  }

  /**
   * Fitted on a sample (fit_rows 1,500 of 4,601: each class keeps about its 1,000-row floor) and calibrated on a
   * held-out sample of the other rows (the duplicates detector on the whole batch), both paths still agree row for
   * row, every row is scored, the flipped labels are still found, and the flag's false-positive rate on the
   * unflipped rows stays within twice the 1% target.
   */
  @Test
  void aSampledFitScoresEveryRowAlikeOnBothPaths(SparkSession spark) {
    Spambase data = Spambase.load(spark);
    try {
      Quality q = assertOnePassMatchesTwoPass(data, new DetectConfig(0.01, 1_500, java.util.Map.of()));
      assertTrue(q.auc() > 0.85, "ensemble ROC-AUC on the flipped rows, fitted on a sample: " + q.auc());
      assertTrue(q.falsePositiveRate() <= 0.02, "flag rate on unflipped rows " + q.falsePositiveRate());
    } finally {
      data.release();
    }
  }

  /**
   * A trusted sample with fewer rows than 1 / target_fpr cannot hold a row in the tail the flag is set in: it is set
   * aside, said so, and the batch is scored exactly as without it.
   */
  @Test
  void aTrustedSampleTooSmallForTheTargetIsSetAside(SparkSession spark) {
    assertEquals(100, PoisonScorer.minTrustedRows(0.01));
    assertEquals(20, PoisonScorer.minTrustedRows(0.05));
    assertEquals(1000, PoisonScorer.minTrustedRows(0.001));
    Spambase data = Spambase.load(spark);
    Dataset<Row> batch = Spambase.flip(data.clean, 0.10, SEED);
    // about 60 clean rows, chosen by a hash of the id
    Dataset<Row> trusted = data.clean.where(functions.pmod(functions.xxhash64(col(Columns.ID)), functions.lit(77))
        .equalTo(0));
    long trustedRows = trusted.count();
    assertTrue(trustedRows > 20 && trustedRows < 100, "trusted rows " + trustedRows);
    PoisonScorer.Scored withTrusted = PoisonScorer.fitAndScore(batch, trusted, data.schema, DetectConfig.defaults(),
        SEED);
    PoisonScorer.Scored withoutTrusted = PoisonScorer.fitAndScore(batch, null, data.schema, DetectConfig.defaults(),
        SEED);
    try {
      assertTrue(withoutTrusted.trustedSetAside().isEmpty());
      String why = withTrusted.trustedSetAside().orElseThrow();
      assertTrue(why.contains("has " + trustedRows + " rows, fewer than the 100"), why);
      Column[] verdict = {col(Columns.ID), col(Columns.POISON_SCORE), col(Columns.FLAGGED), col(Columns.REASONS)};
      Dataset<Row> a = withTrusted.rows().select(verdict);
      Dataset<Row> b = withoutTrusted.rows().select(verdict);
      assertEquals(Spambase.ROWS, a.count());
      assertEquals(0, a.exceptAll(b).count());
      assertEquals(0, b.exceptAll(a).count());
      assertTrue(a.where(col(Columns.FLAGGED)).count() >= 10, "flags compared on too few rows");
    } finally {
      withTrusted.release();
      withoutTrusted.release();
      data.release();
    }
  }

  /** The one-pass result's ensemble ROC-AUC on the flipped rows and its flag rate on the others. */
  private record Quality(double auc, double falsePositiveRate) {}

  /** Compares the paths on Spambase with 10% flipped labels; returns the one-pass result's quality. */
  private static Quality assertOnePassMatchesTwoPass(Spambase data, DetectConfig config) {
    Dataset<Row> batch = Spambase.flip(data.clean, 0.10, SEED);
    Dataset<Row> twoPass = PoisonScorer.fit(batch, data.schema, config, SEED, false).transform(batch)
        .cache();
    PoisonScorer.Scored onePass = PoisonScorer.fitAndScore(batch, null, data.schema, config, SEED);
    try {
      assertEquals(Arrays.asList(twoPass.schema().fields()), Arrays.asList(onePass.rows().schema().fields()));
      Dataset<Row> pairs = twoPass.as("a").join(onePass.rows().as("b"),
          col("a." + Columns.ID).equalTo(col("b." + Columns.ID)), "full_outer");
      List<Column> checks = new ArrayList<>(List.of(count(functions.lit(1)).as("rows"),
          count(col("a." + Columns.ID)).as("left"), count(col("b." + Columns.ID)).as("right"),
          sum(when(col("a." + Columns.FLAGGED), 1).otherwise(0)).as("flagged")));
      List<String> doubles = new ArrayList<>();
      List<String> exact = new ArrayList<>();
      for (StructField field : twoPass.schema().fields()) {
        (field.dataType().equals(DataTypes.DoubleType) ? doubles : exact).add(field.name());
      }
      for (String name : doubles) {
        Column a = col("a." + name);
        Column b = col("b." + name);
        // NaN and null must match as such; elsewhere the difference is what is bounded
        Column sameMissing = a.isNull().equalTo(b.isNull()).and(functions.coalesce(isnan(a), functions.lit(false))
            .equalTo(functions.coalesce(isnan(b), functions.lit(false))));
        checks.add(sum(when(not(sameMissing), 1).otherwise(0)).as("missing " + name));
        checks.add(max(when(not(isnan(a)).and(not(isnan(b))), abs(a.minus(b)))).as("diff " + name));
      }
      for (String name : exact) {
        checks.add(sum(when(col("a." + name).eqNullSafe(col("b." + name)), 0).otherwise(1)).as("unequal " + name));
      }
      Row r = pairs.agg(checks.get(0), checks.subList(1, checks.size()).toArray(Column[]::new)).head();
      assertEquals(Spambase.ROWS, r.getLong(0));
      assertEquals(Spambase.ROWS, r.getLong(1));
      assertEquals(Spambase.ROWS, r.getLong(2));
      int at = 4;
      for (String name : doubles) {
        assertEquals(0L, r.getLong(at++), name + ": NaN or null where the other path has a value");
        double diff = r.isNullAt(at) ? 0 : r.getDouble(at);
        at++;
        assertTrue(diff <= TOLERANCE, name + " differs by " + diff);
      }
      for (String name : exact) {
        assertEquals(0L, r.getLong(at++), name + " differs");
      }
      assertTrue(doubles.stream().filter(n -> n.startsWith(Columns.PREFIX + "score_")).count() >= 8, doubles.toString());
      assertTrue(exact.containsAll(List.of(Columns.FLAGGED, Columns.REASONS)), exact.toString());
      // enough that flags and reasons are compared on rows that carry them
      assertTrue(r.getLong(3) >= 10, "too few flagged rows for a telling comparison: " + r.getLong(3));
      Row clean = onePass.rows().where(not(col(Spambase.FLIPPED)))
          .agg(sum(when(col(Columns.FLAGGED), 1L).otherwise(0L)), count(functions.lit(1))).head();
      return new Quality(Spambase.auc(onePass.rows(), Columns.POISON_SCORE, Spambase.FLIPPED),
          (double) clean.getLong(0) / clean.getLong(1));
    } finally {
      onePass.release();
      twoPass.unpersist();
    }
  }
}
