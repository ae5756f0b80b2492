package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Robust Mahalanobis distance on spambase: backdoor rows (plausible features in a rare combination, in the
 * wrong class) and flipped rows lie far from the core of the class they claim.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MahalanobisTest {
  private static final String SCORE = PoisonDetector.scoreColumn(MahalanobisDetector.CODE);
  private static final String EVIDENCE = PoisonDetector.evidenceColumn(MahalanobisDetector.CODE);

  private Spambase data;
  private Dataset<Row> prepared;
  private MahalanobisModel model;
  private Dataset<Row> scored;

  @BeforeAll
  void fit(SparkSession spark) {
    data = Spambase.load(spark);
    Dataset<Row> batch = data.withBackdoor();
    prepared = FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch).cache();
    model = new MahalanobisDetector().setSeed(3).fit(prepared);
    scored = model.transform(prepared).cache();
  }

  @AfterAll
  void release() {
    scored.unpersist();
    prepared.unpersist();
    data.release();
  }

  @Test
  void backdoorRowsLieFarFromTheirClasssCore() {
    double auc = Spambase.auc(scored, SCORE, Spambase.BACKDOOR);
    System.out.printf("mahalanobis AUC, 5%% backdoor: %.4f%n", auc);
    assertTrue(auc >= 0.80, "AUC " + auc);
    String evidence = scored.where(col(Spambase.BACKDOOR)).orderBy(col(SCORE).desc()).select(EVIDENCE).first()
        .getString(0);
    assertTrue(evidence.matches("feature=\\w+,distance=\\d+\\.\\d"), evidence);
  }

  @Test
  void flippedRowsLieFarFromTheClassTheyClaim() {
    Dataset<Row> flipped = Spambase.flip(data.clean, 0.10, 42);
    Dataset<Row> ready = FeaturePreparer.forSchema(data.schema).fit(flipped).transform(flipped);
    double auc = Spambase.auc(new MahalanobisDetector().setSeed(3).fit(ready).transform(ready), SCORE,
        Spambase.FLIPPED);
    System.out.printf("mahalanobis AUC, 10%% flips: %.4f%n", auc);
    assertTrue(auc >= 0.75, "AUC " + auc);
  }

  @Test
  void sameSeedSameScoresAndSaveLoadRoundTrip(@TempDir Path dir) throws IOException {
    assertEquals(0, ScoreDifferences.count(scored,
        new MahalanobisDetector().setSeed(3).fit(prepared).transform(prepared), SCORE, EVIDENCE));
    model.write().save(dir.resolve("mahalanobis").toString());
    assertEquals(0, ScoreDifferences.count(scored, MahalanobisModel.load(dir.resolve("mahalanobis").toString())
        .transform(prepared), SCORE, EVIDENCE));
  }

  /**
   * A feature constant on the sample at a value whose mean does not round back to it (511 copies of −log(1/511),
   * a categorical column of distinct values, average to 6.236369590203631 against 6.236369590203704): its variance
   * comes out as 5e-27, not 0. Taken as the feature's variance it put a row 0.69 away at a distance of 10^13.
   */
  @Test
  void aConstantFeatureWithRoundingNoiseCountsAsConstant() {
    int n = 511;
    java.util.Random random = new java.util.Random(1);
    double[][] rows = new double[n][];
    for (int i = 0; i < n; i++) {
      rows[i] = new double[] {random.nextGaussian(), -Math.log(1.0 / n)};
    }
    RobustCovariance fitted = RobustCovariance.fit(rows, 0.75, 3);
    double near = RobustCovariance.squaredDistance(new double[] {0, -Math.log(1.0 / n)}, fitted.mean(),
        fitted.factor());
    double shifted = RobustCovariance.squaredDistance(new double[] {0, -Math.log(0.5 / n)}, fitted.mean(),
        fitted.factor());
    // the constant feature has unit variance: a shift of log 2 adds about its square (times the consistency scale)
    assertTrue(near < 1, "a typical row: " + near);
    assertTrue(shifted - near < 5 * Math.log(2) * Math.log(2), "the shifted row: " + shifted);
  }
}
