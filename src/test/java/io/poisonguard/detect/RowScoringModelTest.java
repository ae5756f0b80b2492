package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.DetectConfig;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Deferred evidence ({@link DetectorModel#scoreDeferringEvidence}) is the evidence {@code transform} writes, row
 * for row, for every default detector: the detection stage reads flagged rows' reasons from it. Detectors scored
 * together ({@link RowScoringModel#scoreTogether}, as the detection stage scores them) give each one's own scores
 * and evidence.
 */
@ExtendWith(SharedSpark.class)
class RowScoringModelTest {
  private static final String DEFERRED = "deferred_evidence";

  @Test
  void deferredEvidenceIsTheEvidenceTransformWrites(SparkSession spark) {
    Spambase data = Spambase.load(spark);
    try {
      Dataset<Row> batch = data.withBackdoor();
      Dataset<Row> prepared = FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch)
          .select(Columns.ID, Columns.FEATURES, Columns.LABEL_INDEX).cache();
      List<DetectorEstimator<?>> estimators = DetectorRegistry.build(DetectConfig.defaults().detectors(), 7);
      int rowByRow = 0;
      for (DetectorEstimator<?> estimator : estimators) {
        DetectorModel<?> model = estimator.fit(prepared);
        DetectorModel.ScoredRows deferred = model.scoreDeferringEvidence(prepared);
        if (model instanceof RowScoringModel<?>) {
          rowByRow++;
          assertFalse(Arrays.asList(deferred.rows().columns()).contains(model.getEvidenceCol()),
              model.reasonCode() + ": no evidence column until it is read");
        }
        List<Row> written = model.transform(prepared)
            .select(col(Columns.ID), col(model.getScoreCol()), col(model.getEvidenceCol()))
            .orderBy(Columns.ID).collectAsList();
        List<Row> read = deferred.rows().withColumn(DEFERRED, deferred.evidence())
            .select(col(Columns.ID), col(model.getScoreCol()), col(DEFERRED))
            .orderBy(Columns.ID).collectAsList();
        assertEquals(written, read, model.reasonCode());
        assertTrue(written.stream().anyMatch(r -> !r.isNullAt(2)), model.reasonCode() + " explains some rows");
      }
      assertEquals(estimators.size() - 1, rowByRow, "every default detector but duplicates scores row by row");
      prepared.unpersist();
    } finally {
      data.release();
    }
  }

  @Test
  void scoringTogetherGivesEachDetectorsOwnScoresAndEvidence(SparkSession spark) {
    Spambase data = Spambase.load(spark);
    try {
      Dataset<Row> batch = data.withBackdoor();
      Dataset<Row> prepared = FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch)
          .select(Columns.ID, Columns.FEATURES, Columns.LABEL_INDEX).cache();
      List<RowScoringModel<?>> models = new ArrayList<>();
      for (DetectorEstimator<?> estimator : DetectorRegistry.build(DetectConfig.defaults().detectors(), 7)) {
        if (estimator.fit(prepared) instanceof RowScoringModel<?> model) {
          models.add(model);
        }
      }
      RowScoringModel.ScoredTogether together = RowScoringModel.scoreTogether(models, prepared);
      assertEquals(models.size(), together.evidence().size());
      for (int i = 0; i < models.size(); i++) {
        RowScoringModel<?> model = models.get(i);
        List<Row> alone = model.transform(prepared)
            .select(col(Columns.ID), col(model.getScoreCol()), col(model.getEvidenceCol()))
            .orderBy(Columns.ID).collectAsList();
        List<Row> jointly = together.rows().withColumn(DEFERRED, together.evidence().get(i))
            .select(col(Columns.ID), col(model.getScoreCol()), col(DEFERRED))
            .orderBy(Columns.ID).collectAsList();
        assertEquals(alone, jointly, model.reasonCode());
      }
      prepared.unpersist();
    } finally {
      data.release();
    }
  }
}
