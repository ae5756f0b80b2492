package io.poisonguard.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Lookups brought to the driver when within the broadcast threshold, read in one pass over every partition. */
@ExtendWith(SharedSpark.class)
class BroadcastLookupTest {
  /** Spambase's rows with an id, in eight partitions. */
  private static Dataset<Row> spambase(SparkSession spark) {
    return spark.read().option("header", "true").option("inferSchema", "true").csv("data/spambase.csv")
        .withColumn("row", org.apache.spark.sql.functions.monotonically_increasing_id()).repartition(8);
  }

  @Test
  void aSmallLookupComesBackWholeFromOneJobOverAllPartitions(SparkSession spark) throws Exception {
    // as the detectors' lookups are: an aggregation's few groups, after a shuffle into eight partitions (adaptive
    // execution off, so that the jobs are the limit's own, not those of its query stages)
    String adaptive = spark.conf().get("spark.sql.adaptive.enabled");
    spark.conf().set("spark.sql.adaptive.enabled", "false");
    try {
      Dataset<Row> spam = spambase(spark).groupBy("capitalLong").count().where("count > 3");
      long expected = spam.count();
      assertTrue(expected > 10 && expected < 1000, "a few hundred repeated capitalLong values: " + expected);
      AtomicInteger jobs = new AtomicInteger();
      SparkListener counter = new SparkListener() {
        @Override
        public void onJobStart(SparkListenerJobStart start) {
          jobs.incrementAndGet();
        }
      };
      spark.sparkContext().addSparkListener(counter);
      Optional<Dataset<Row>> few;
      try {
        few = BroadcastLookup.collectIfSmall(spam, 64);
        spark.sparkContext().listenerBus().waitUntilEmpty();
      } finally {
        spark.sparkContext().removeSparkListener(counter);
      }
      assertTrue(few.isPresent());
      List<Row> rows = few.get().collectAsList();
      assertEquals(expected, rows.size());
      assertEquals(spam.schema(), few.get().schema());
      assertEquals(0, few.get().except(spam).count() + spam.except(few.get()).count(), "the same rows");
      // A limit collected from the root of a query reads one partition, then four, then the rest: three jobs
      // over these eight. Read at once, the partitions take one job.
      assertEquals(1, jobs.get(), "jobs");
    } finally {
      spark.conf().set("spark.sql.adaptive.enabled", adaptive);
    }
  }

  @Test
  void aLookupOverTheThresholdStaysDistributed(SparkSession spark) {
    String key = "spark.sql.autoBroadcastJoinThreshold";
    String before = spark.conf().get(key);
    spark.conf().set(key, "6400");
    try {
      // 6,400 bytes at 64 bytes a row allow 100 rows; spambase's spam rows are 1,813
      assertTrue(BroadcastLookup.collectIfSmall(spambase(spark).where("type = 'spam'"), 64).isEmpty());
      assertEquals(100, BroadcastLookup.collectIfSmall(spambase(spark).limit(100), 64).orElseThrow().count());
      spark.conf().set(key, "-1");
      assertTrue(BroadcastLookup.collectIfSmall(spambase(spark).limit(1), 64).isEmpty(), "broadcasts off");
    } finally {
      spark.conf().set(key, before);
    }
  }
}
