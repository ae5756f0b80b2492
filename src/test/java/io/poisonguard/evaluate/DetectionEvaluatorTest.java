package io.poisonguard.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.SharedSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Detection metrics on hand-made scores with known answers. */
@ExtendWith(SharedSpark.class)
class DetectionEvaluatorTest {
  private static final StructType SCHEMA = new StructType().add("s", DataTypes.DoubleType)
      .add("f", DataTypes.BooleanType).add("t", DataTypes.BooleanType);

  /** 900 clean rows scoring 0..899 and 100 poisoned rows scoring {@code poisonScore(i)}; flagged above 950. */
  private static Dataset<Row> rows(SparkSession spark, java.util.function.IntToDoubleFunction poisonScore) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 900; i++) {
      rows.add(RowFactory.create((double) i, i > 890, false));
    }
    for (int i = 0; i < 100; i++) {
      double s = poisonScore.applyAsDouble(i);
      rows.add(RowFactory.create(s, s > 890, true));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  @Test
  void perfectSeparation(SparkSession spark) {
    DetectionMetrics m = DetectionEvaluator.evaluate(rows(spark, i -> 1000 + i), "s", "f", "t");
    assertEquals(1.0, m.rocAuc(), 1e-12);
    assertEquals(1.0, m.prAuc(), 1e-9);
    assertEquals(1.0, m.recallAt1Fpr(), 1e-12);
    assertEquals(1.0, m.recall(), 1e-12);
    assertEquals(100 / 109.0, m.precision(), 1e-12, "9 clean rows score above 890");
    assertEquals(9 / 900.0, m.fpr(), 1e-12);
    assertEquals(2 * m.precision() / (m.precision() + 1), m.f1(), 1e-12);
  }

  @Test
  void missingScoresRankBelowEveryRealScore(SparkSession spark) {
    // poisoned rows score NaN or null: no evidence, so they rank last and the ROC area is 0
    Dataset<Row> rows = rows(spark, i -> i % 2 == 0 ? Double.NaN : -1).withColumn("s",
        functions.when(functions.col("s").equalTo(-1), functions.lit(null).cast("double")).otherwise(functions.col("s")));
    assertEquals(0.0, DetectionEvaluator.evaluate(rows, "s", null, "t").rocAuc(), 1e-12);
    // a score with no evidence anywhere ties everywhere
    DetectionMetrics none = DetectionEvaluator.evaluate(rows.withColumn("s", functions.lit(Double.NaN)), "s", null, "t");
    assertEquals(0.5, none.rocAuc(), 1e-12);
    assertEquals(0.01, none.recallAt1Fpr(), 1e-9);
  }

  @Test
  void reversedAndTiedScores(SparkSession spark) {
    assertEquals(0.0, DetectionEvaluator.evaluate(rows(spark, i -> -1 - i), "s", "f", "t").rocAuc(), 1e-12);
    List<Row> tied = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      tied.add(RowFactory.create(1.0, false, i % 2 == 0));
    }
    DetectionMetrics m = DetectionEvaluator.evaluate(spark.createDataFrame(tied, SCHEMA), "s", null, "t");
    assertEquals(0.5, m.rocAuc(), 1e-12);
    assertTrue(Double.isNaN(m.precision()), "no flag column, no flag metrics");
  }

  @Test
  void recallAtAFalsePositiveRate(SparkSession spark) {
    // half the poisoned rows beat every clean score, the other half sit in the clean bulk
    DetectionMetrics m = DetectionEvaluator.evaluate(rows(spark, i -> i < 50 ? 2000 + i : 400 + i), "s", "f", "t");
    assertEquals(0.5, m.recallAt1Fpr(), 1e-12);
    assertEquals(0.5, m.recallAt5Fpr(), 1e-12);
    assertTrue(m.rocAuc() > 0.5 && m.rocAuc() < 1);
  }

  @Test
  void tiesAtTheThresholdCountOnlyAsFarAsTheFalsePositiveBudgetAllows(SparkSession spark) {
    // 100 of 900 clean rows and every poisoned row share the top score: at 1% FPR only 9 of those 100 clean
    // rows fit the budget, so only 9% of the tied poisoned rows may be counted
    DetectionMetrics m = DetectionEvaluator.evaluate(rows(spark, i -> 1000).withColumn("s",
        org.apache.spark.sql.functions.least(org.apache.spark.sql.functions.col("s"),
            org.apache.spark.sql.functions.lit(800.0))), "s", null, "t");
    assertEquals(0.09, m.recallAt1Fpr(), 1e-9);
    assertEquals(0.45, m.recallAt5Fpr(), 1e-9);
  }
}
