package io.poisonguard.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.InputConfig;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The accuracy triple on Spambase with a third of the spam training labels flipped, for a perfect guard and for one
 * that misses a third of the flips and flags some clean rows.
 */
@ExtendWith(SharedSpark.class)
class TrainingImpactTest {
  @Test
  void poisonHurtsAndAGuardThatRemovesItRecovers(SparkSession spark) {
    IngestedBatch batch = new Ingestor(spark).read(new InputConfig("data/spambase.csv", "csv", "type", null, null,
        null, null, null, null), "t");
    try {
      Column bucket = functions.pmod(functions.xxhash64(functions.col(Columns.ID)), functions.lit(10L));
      Dataset<Row> test = batch.accepted().filter(bucket.lt(2));
      Column flip = functions.pmod(functions.xxhash64(functions.col(Columns.ID), functions.lit(1L)),
          functions.lit(3L)).equalTo(0).and(functions.col("type").equalTo("spam"));
      Dataset<Row> train = batch.accepted().filter(bucket.geq(2))
          .withColumn("poisoned", flip)
          .withColumn("flagged", flip)
          .withColumn("type", functions.when(flip, "nonspam").otherwise(functions.col("type")));
      Map<String, Double> acc = TrainingImpact.accuracies(train, test, batch.features(), "poisoned", "flagged", 42);
      assertTrue(acc.get("all_poisoned") < acc.get("clean_only") - 0.03, acc.toString());
      assertTrue(Math.abs(acc.get("guard_kept") - acc.get("clean_only")) < 1e-9, "a perfect guard keeps exactly "
          + "the clean rows: " + acc);
      assertTrue(acc.get("clean_only") > 0.88, acc.toString());

      // an imperfect guard: it finds two thirds of the flips and flags 5% of the clean rows as well
      Column half = functions.pmod(functions.xxhash64(functions.col(Columns.ID), functions.lit(2L)),
          functions.lit(60L));
      Dataset<Row> partly = train.withColumn("flagged", functions.col("poisoned").and(half.lt(40))
          .or(functions.not(functions.col("poisoned")).and(half.lt(3))));
      Map<String, Double> partial = TrainingImpact.accuracies(partly, test, batch.features(), "poisoned", "flagged",
          42);
      assertEquals(acc.get("clean_only"), partial.get("clean_only"), 1e-12, "the same clean-only model");
      assertEquals(acc.get("all_poisoned"), partial.get("all_poisoned"), 1e-12, "the same poisoned model");
      assertTrue(partial.get("guard_kept") > partial.get("all_poisoned") + 0.01
          && partial.get("guard_kept") < partial.get("clean_only"), "between the two: " + partial);
    } finally {
      batch.release();
    }
  }
}
