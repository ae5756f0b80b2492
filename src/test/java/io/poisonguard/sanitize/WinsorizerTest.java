package io.poisonguard.sanitize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.SharedSpark;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Clipping Spambase's capital-run statistics (long right tails) to bounds learned on one half and applied to the
 * other: values inside the bounds are untouched, the tails are cut at the learned quantiles, missing values stay
 * missing.
 */
@ExtendWith(SharedSpark.class)
class WinsorizerTest {
  private static final List<String> COLUMNS = List.of("capitalAve", "capitalLong", "capitalTotal");

  private static Dataset<Row> spambase(SparkSession spark) {
    return spark.read().option("header", "true").option("inferSchema", "true").csv("data/spambase.csv")
        .withColumn("row", functions.monotonically_increasing_id());
  }

  @Test
  void clipsTheTailsAtTheReferenceQuantilesAndLeavesTheRest(SparkSession spark) {
    Dataset<Row> all = spambase(spark).cache();
    Dataset<Row> reference = all.filter(functions.col("row").mod(2).equalTo(0));
    Dataset<Row> batch = all.filter(functions.col("row").mod(2).equalTo(1))
        // a missing value passes through as it is
        .withColumn("capitalAve", functions.when(functions.col("row").equalTo(1), null)
            .otherwise(functions.col("capitalAve")));

    Winsorizer winsorizer = Winsorizer.fit(reference, COLUMNS, 0.01, 0.99);
    Row clipped = winsorizer.transform(batch).agg(functions.max("capitalTotal"), functions.min("capitalTotal"),
        functions.count(functions.when(functions.col("capitalAve").isNull(), 1))).head();
    // the reference's own 1% and 99% quantiles of capitalTotal, read off its sorted values
    List<Double> sorted = reference.select(functions.col("capitalTotal").cast("double")).orderBy("capitalTotal")
        .as(org.apache.spark.sql.Encoders.DOUBLE()).collectAsList();
    double upper = sorted.get((int) Math.ceil(0.99 * sorted.size()) - 1);
    double lower = sorted.get((int) Math.ceil(0.01 * sorted.size()) - 1);
    assertEquals(upper, clipped.getDouble(0), 0.002 * upper, "clipped at the reference's 99% quantile");
    assertEquals(lower, clipped.getDouble(1), 1.0, "and at its 1% quantile");
    assertEquals(1L, clipped.getLong(2), "the missing value stays missing");

    // about 1% of the other half is cut on each side, and a value between the bounds is not moved
    Dataset<Row> joined = batch.select(functions.col("row"), functions.col("capitalTotal").as("before"))
        .join(winsorizer.transform(batch).select(functions.col("row"), functions.col("capitalTotal").as("after")),
            "row");
    long rows = joined.count();
    long changedHigh = joined.filter(functions.col("after").lt(functions.col("before"))).count();
    long changedLow = joined.filter(functions.col("after").gt(functions.col("before"))).count();
    assertTrue(changedHigh > 0.005 * rows && changedHigh < 0.02 * rows, changedHigh + " of " + rows + " cut high");
    assertTrue(changedLow < 0.02 * rows, changedLow + " of " + rows + " raised");
    assertEquals(0L, joined.filter(functions.col("before").between(lower + 1, upper - 1)
        .and(functions.col("after").notEqual(functions.col("before")))).count(), "values inside the bounds stay");
    all.unpersist();
  }
}
