package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spectral signatures on spambase: a backdoor (nonspam rows with a three-feature trigger, relabelled spam)
 * and random label flips both show up along the top direction of their class.
 */
class SpectralTest extends OnSpambase {
  private static final String SCORE = PoisonDetector.scoreColumn(SpectralDetector.CODE);
  private static final String EVIDENCE = PoisonDetector.evidenceColumn(SpectralDetector.CODE);

  private Dataset<Row> scored(Dataset<Row> batch, long seed) {
    Dataset<Row> prepared = FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch);
    return new SpectralDetector().setSeed(seed).fit(prepared).transform(prepared);
  }

  @Test
  void backdoorRowsProjectFarAlongTheirClasssTopDirection() {
    Dataset<Row> scored = scored(data.withBackdoor(), 3).cache();
    double auc = Spambase.auc(scored, SCORE, Spambase.BACKDOOR);
    System.out.printf("spectral AUC, 5%% backdoor: %.4f%n", auc);
    assertTrue(auc >= 0.85, "AUC " + auc);
    String evidence = scored.where(col(Spambase.BACKDOOR)).orderBy(col(SCORE).desc()).select(EVIDENCE).first()
        .getString(0);
    assertTrue(evidence.matches("view=(features|gradient),projection=[+-]\\d+\\.\\d\\d"), evidence);
    scored.unpersist();
  }

  @Test
  void randomFlipsStandOutToo() {
    Dataset<Row> scored = scored(Spambase.flip(data.clean, 0.10, 42), 3).cache();
    double auc = Spambase.auc(scored, SCORE, Spambase.FLIPPED);
    System.out.printf("spectral AUC, 10%% flips: %.4f%n", auc);
    assertTrue(auc >= 0.80, "AUC " + auc);
    scored.unpersist();
  }

  @Test
  void sameSeedSameScoresAndSaveLoadRoundTrip(@TempDir Path dir) throws IOException {
    Dataset<Row> batch = data.withBackdoor();
    Dataset<Row> prepared = FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch).cache();
    SpectralModel model = new SpectralDetector().setSeed(3).fit(prepared);
    Dataset<Row> first = model.transform(prepared).cache();
    // the moments are summed in partition order (ClassMoments), so a refit gives the very same scores
    assertEquals(0, ScoreDifferences.count(first, new SpectralDetector().setSeed(3).fit(prepared).transform(prepared),
        SCORE, EVIDENCE));
    model.write().save(dir.resolve("spectral").toString());
    assertEquals(0, ScoreDifferences.count(first, SpectralModel.load(dir.resolve("spectral").toString())
        .transform(prepared), SCORE, EVIDENCE));
    first.unpersist();
    prepared.unpersist();
  }
}
