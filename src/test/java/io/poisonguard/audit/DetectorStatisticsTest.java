package io.poisonguard.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.DetectConfig;
import io.poisonguard.detect.PoisonScorer;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The per-detector statistics of a real scored batch agree with the rows they summarise. */
@ExtendWith(SharedSpark.class)
class DetectorStatisticsTest {
  @Test
  void histogramsAndFiringCountsAddUpToTheScoredRows(SparkSession spark) {
    Dataset<Row> raw = spark.read().option("header", "true").option("inferSchema", "true").csv("data/spambase.csv");
    List<String> features = Arrays.stream(raw.columns()).filter(c -> !c.equals("type")).toList();
    // a third of Spambase, with ten labels flipped so that the label-aware detectors have something to fire on
    Dataset<Row> batch = raw.withColumn(Columns.ID, functions.monotonically_increasing_id().cast("string"))
        .withColumn(Columns.SOURCE, functions.lit("spambase.csv"))
        .where(functions.pmod(functions.xxhash64(functions.col(Columns.ID)), functions.lit(3)).equalTo(0))
        .withColumn("type", functions.when(functions.pmod(functions.xxhash64(functions.col(Columns.ID),
            functions.lit(5L)), functions.lit(150)).equalTo(0), functions.when(functions.col("type")
            .equalTo("spam"), "nonspam").otherwise("spam")).otherwise(functions.col("type")))
        .cache();
    FeatureSchema schema = new FeatureSchema("type", features, List.of());
    PoisonScorer.Fitted fitted = PoisonScorer.fit(batch, schema, DetectConfig.defaults(), 7, false);
    Dataset<Row> scored = fitted.transform(batch).cache();
    long rows = scored.count();
    long flagged = scored.filter(Columns.col(Columns.FLAGGED)).count();
    assertTrue(flagged > 0, "something is flagged");

    List<Row> stats = DetectorStatistics.compute(spark, scored, fitted.unboundedScores(), "r1", "p")
        .collectAsList();
    assertEquals(fitted.detectorCodes().size() + 1, stats.size());
    for (Row s : stats) {
      String detector = s.getAs("detector");
      boolean combined = detector.equals(DetectorStatistics.COMBINED);
      Column score = Columns.col(combined ? Columns.POISON_SCORE : Columns.PREFIX + "score_" + detector);
      Column finite = score.isNotNull().and(functions.not(functions.isnan(score)));
      Column fired = combined ? Columns.col(Columns.FLAGGED)
          : functions.exists(Columns.col(Columns.REASONS), r -> r.startsWith(detector + ":"));
      assertEquals(rows, s.<Long>getAs("rows"));
      assertEquals(scored.filter(finite).count(), s.<Long>getAs("scored"), detector);
      assertEquals(scored.filter(fired).count(), s.<Long>getAs("fired"), detector);
      long kept = s.<Long>getList(s.fieldIndex("kept_counts")).stream().mapToLong(Long::longValue).sum();
      long held = s.<Long>getList(s.fieldIndex("quarantined_counts")).stream().mapToLong(Long::longValue).sum();
      assertEquals(s.<Long>getAs("scored"), kept + held, detector + ": every scored row is in one bin");
      assertEquals(scored.filter(finite.and(Columns.col(Columns.FLAGGED))).count(), held, detector);
      if (s.<Long>getAs("fired") > 0) {
        double lowest = scored.filter(fired.and(finite)).agg(functions.min(score)).head().getDouble(0);
        assertEquals(lowest, s.<Double>getAs("lowest_fired"), 1e-12, detector);
      }
      if (s.<Long>getAs("scored") > 0) {
        double p50 = s.getAs("p50");
        double p90 = s.getAs("p90");
        double p99 = s.getAs("p99");
        double max = s.getAs("max");
        assertTrue(p50 <= p90 && p90 <= p99 && p99 <= max, detector + ": quantiles in order");
        assertEquals(DetectorStatistics.BINS + 1, s.getList(s.fieldIndex("bin_edges")).size());
      }
    }
    assertEquals(flagged, stats.stream().filter(s -> s.getAs("detector").equals(DetectorStatistics.COMBINED))
        .findFirst().orElseThrow().<Long>getAs("fired"));
    assertTrue(fitted.unboundedScores().entrySet().stream().anyMatch(Map.Entry::getValue),
        "some detector is histogrammed on the log scale");
    scored.unpersist();
    batch.unpersist();
  }
}
