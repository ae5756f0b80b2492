package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Deferred evidence ({@link DetectorModel#scoreDeferringEvidence}) is the evidence {@code transform} writes, row
 * for row, for every registered detector: the detection stage reads flagged rows' reasons from it. Detectors scored
 * together ({@link RowScoringModel#scoreTogether}, as the detection stage scores them) give each one's own scores
 * and evidence, duplicates' lookup of its counted groups among them.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RowScoringModelTest {
  private static final String DEFERRED = "deferred_evidence";

  private Spambase data;
  /** Backdoored spambase, prepared: ids, features and class indices. */
  private Dataset<Row> prepared;
  /** Every registered detector, fitted on {@link #prepared}. */
  private List<DetectorModel<?>> models;

  @BeforeAll
  void fit(SparkSession spark) {
    data = Spambase.load(spark);
    Dataset<Row> batch = data.withBackdoor();
    prepared = FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch)
        .select(Columns.ID, Columns.FEATURES, Columns.LABEL_INDEX).cache();
    models = new ArrayList<>();
    // the default suite plus the detectors that are off by default
    Map<String, Map<String, Object>> all = new LinkedHashMap<>();
    DetectorRegistry.names().forEach(name -> all.put(name, Map.of(DetectorRegistry.ENABLED, true)));
    for (DetectorEstimator<?> estimator : DetectorRegistry.build(all, 7)) {
      models.add(estimator.fit(prepared));
    }
  }

  @AfterAll
  void release() {
    prepared.unpersist();
    data.release();
  }

  @Test
  void deferredEvidenceIsTheEvidenceTransformWrites() {
    int rowByRow = 0;
    for (DetectorModel<?> model : models) {
      DetectorModel.ScoredRows deferred = model.scoreDeferringEvidence(prepared);
      if (model instanceof RowScoringModel<?>) {
        rowByRow++;
        assertFalse(Arrays.asList(deferred.rows().columns()).contains(model.getEvidenceCol()),
            model.reasonCode() + ": no evidence column until it is read");
      }
      List<Row> written = written(model);
      assertEquals(written, read(model, deferred.rows(), deferred.evidence()), model.reasonCode());
      assertTrue(written.stream().anyMatch(r -> !r.isNullAt(2)), model.reasonCode() + " explains some rows");
    }
    assertEquals(models.size() - 1, rowByRow, "every detector but duplicates scores row by row");
  }

  @Test
  void scoringTogetherGivesEachDetectorsOwnScoresAndEvidence() {
    // every registered detector: duplicates too, which scores each row alone once it has counted the rows it scores
    List<DetectorModel<?>> alone = new ArrayList<>();
    List<RowScoringModel.RowScorer> scorers = new ArrayList<>();
    for (DetectorModel<?> model : models) {
      DetectorModel<?> counted = model.againstRowsOf(prepared);
      alone.add(counted);
      scorers.add(counted.rowScorer().orElseThrow(() -> new AssertionError(model.reasonCode() + " has no row scorer")));
    }
    RowScoringModel.ScoredTogether together = RowScoringModel.scoreTogether(alone, scorers, prepared);
    assertEquals(models.size(), together.evidence().size());
    assertEquals(DuplicateTest.joins(prepared), DuplicateTest.joins(together.rows()), "no join added to the rows");
    for (int i = 0; i < models.size(); i++) {
      DetectorModel<?> model = models.get(i);
      assertEquals(written(model), read(model, together.rows(), together.evidence().get(i)), model.reasonCode());
    }
  }

  /** Each row's id, score and evidence as {@code transform} writes them. */
  private List<Row> written(DetectorModel<?> model) {
    return model.transform(prepared).select(col(Columns.ID), col(model.getScoreCol()), col(model.getEvidenceCol()))
        .orderBy(Columns.ID).collectAsList();
  }

  /** Each row's id, score and evidence, the evidence read from {@code evidence} over {@code scored}. */
  private static List<Row> read(DetectorModel<?> model, Dataset<Row> scored, Column evidence) {
    return scored.withColumn(DEFERRED, evidence).select(col(Columns.ID), col(model.getScoreCol()), col(DEFERRED))
        .orderBy(Columns.ID).collectAsList();
  }
}
