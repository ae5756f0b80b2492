package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Confident learning on spambase with 10% random label flips. */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LabelConsistencyTest {
  private static final String SCORE = PoisonDetector.scoreColumn(LabelConsistencyDetector.CODE);
  private static final String EVIDENCE = PoisonDetector.evidenceColumn(LabelConsistencyDetector.CODE);

  private Spambase data;
  private Dataset<Row> flipped;
  private PipelineModel batchModel;
  private Dataset<Row> batchScored;

  @BeforeAll
  void fit(SparkSession spark) {
    data = Spambase.load(spark);
    flipped = Spambase.flip(data.clean, 0.10, 11).cache();
    // Batch mode: the poisoned batch is its own fit data, so every row must be scored by a model without it.
    batchModel = pipeline(new LabelConsistencyDetector().setSeed(3)).fit(flipped);
    batchScored = batchModel.transform(flipped).cache();
  }

  @AfterAll
  void release() {
    batchScored.unpersist();
    flipped.unpersist();
    data.release();
  }

  private Pipeline pipeline(LabelConsistencyDetector detector) {
    return new Pipeline().setStages(new PipelineStage[] {FeaturePreparer.forSchema(data.schema), detector});
  }

  @Test
  void separatesRandomFlipsInBatchMode() {
    double auc = Spambase.auc(batchScored, SCORE, Spambase.FLIPPED);
    System.out.printf("label_consistency AUC, 10%% flips, batch mode: %.4f%n", auc);
    assertTrue(auc >= 0.9, "AUC " + auc);
    LabelConsistencyModel model = (LabelConsistencyModel) batchModel.stages()[1];
    // Self-confidence thresholds: well above chance, below 1 (10% of each class is mislabelled).
    for (double t : model.thresholds()) {
      assertTrue(t > 0.6 && t < 0.95, "threshold " + t);
    }
    Row top = batchScored.orderBy(col(SCORE).desc()).select(EVIDENCE, "type", Spambase.FLIPPED).first();
    String expected = top.getString(1).equals("spam") ? "given=spam,predicted=nonspam,p=" : "given=nonspam,predicted=spam,p=";
    assertTrue(top.getString(0).startsWith(expected), top.getString(0));
  }

  @Test
  void separatesFlipsInABatchScoredAgainstATrustedFit() {
    Dataset<Row>[] halves = data.clean.randomSplit(new double[] {0.5, 0.5}, 5);
    Dataset<Row> batch = Spambase.flip(halves[1], 0.10, 12);
    Dataset<Row> scored = pipeline(new LabelConsistencyDetector()).fit(halves[0]).transform(batch);
    double auc = Spambase.auc(scored, SCORE, Spambase.FLIPPED);
    System.out.printf("label_consistency AUC, 10%% flips, trusted half -> other half: %.4f%n", auc);
    assertTrue(auc >= 0.9, "AUC " + auc);
  }

  @Test
  void sameSeedSameScoresAndSaveLoadRoundTrip(@TempDir Path dir) throws java.io.IOException {
    PipelineModel again = pipeline(new LabelConsistencyDetector().setSeed(3)).fit(flipped);
    assertEquals(0, differences(batchScored, again.transform(flipped)));
    LabelConsistencyModel model = (LabelConsistencyModel) batchModel.stages()[1];
    model.write().save(dir.resolve("lc").toString());
    LabelConsistencyModel loaded = LabelConsistencyModel.load(dir.resolve("lc").toString());
    assertArrayEquals(model.thresholds(), loaded.thresholds());
    Dataset<Row> prepared = ((FeaturePreparerModel) batchModel.stages()[0]).transform(flipped);
    assertEquals(0, differences(batchScored, loaded.transform(prepared)));
  }

  @Test
  void rowsOfUnknownClassScoreNaN() {
    Dataset<Row> prepared = ((FeaturePreparerModel) batchModel.stages()[0]).transform(flipped.limit(3)
        .withColumn("type", org.apache.spark.sql.functions.lit("never-seen")));
    List<Row> rows = batchModel.stages()[1].transform(prepared).select(SCORE, EVIDENCE).collectAsList();
    assertEquals(3, rows.size());
    rows.forEach(r -> assertTrue(Double.isNaN(r.getDouble(0)) && r.isNullAt(1), r.toString()));
  }

  private static long differences(Dataset<Row> a, Dataset<Row> b) {
    Dataset<Row> joined = a.select(col(Columns.ID), col(SCORE).as("a"), col(EVIDENCE).as("ea"))
        .join(b.select(col(Columns.ID), col(SCORE).as("b"), col(EVIDENCE).as("eb")), Columns.ID);
    assertEquals(Spambase.ROWS, joined.count());
    return joined.where(col("a").notEqual(col("b")).or(col("ea").notEqual(col("eb")))).count();
  }
}
