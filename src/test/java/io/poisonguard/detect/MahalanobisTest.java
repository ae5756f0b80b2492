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
}
