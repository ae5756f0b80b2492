package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The fit sample on Spambase (1,813 spam, 2,788 nonspam rows). */
@ExtendWith(SharedSpark.class)
class FitSampleTest {
  private static Spambase data;

  @BeforeAll
  static void load(SparkSession spark) {
    data = Spambase.load(spark);
  }

  @AfterAll
  static void release() {
    data.release();
  }

  @Test
  void smallDataAndZeroKeepEveryRow() {
    assertSame(data.clean, FitSample.of(data.clean, "type", 0, 1));
    assertSame(data.clean, FitSample.of(data.clean, "type", Spambase.ROWS, 1));
  }

  /**
   * 2,000 of 4,601 rows is a share of 0.435: nonspam keeps that share (about 1,212 rows), spam would keep 788,
   * below the 1,000-row floor, so it keeps 1,000 (share 0.552). Bounds are 4 binomial standard deviations.
   */
  @Test
  void classesKeepTheirShareAndRareOnesTheirFloor() {
    Map<String, Long> counts = classCounts(FitSample.of(data.clean, "type", 2_000, 1));
    assertEquals(1212, counts.get("nonspam"), 4 * 26, counts.toString());
    assertEquals(1000, counts.get("spam"), 4 * 21, counts.toString());
    Map<String, Long> unstratified = classCounts(FitSample.of(data.clean, null, 2_000, 1));
    assertEquals(2000, unstratified.values().stream().mapToLong(Long::longValue).sum(), 4 * 34,
        unstratified.toString());
    assertEquals(788, unstratified.get("spam"), 4 * 21, unstratified.toString());
  }

  @Test
  void theSameRowsWhateverThePartitioningAndOthersForAnotherSeed() {
    List<Long> once = ids(FitSample.of(data.clean, "type", 2_000, 1));
    List<Long> repartitioned = ids(FitSample.of(data.clean.repartition(7), "type", 2_000, 1));
    assertEquals(once, repartitioned);
    assertTrue(once.size() > 1_500, "sample of " + once.size());
    assertNotEquals(once, ids(FitSample.of(data.clean, "type", 2_000, 2)));
  }

  /**
   * With 1,000 of 4,601 rows the sample keeps about 606 nonspam and the 1,000-row spam floor; the held-out rows
   * are a 1,000 / 3,601 share of the other ~2,995: about 832 (4 binomial standard deviations: 98), none of them
   * in the sample, and the same ones whatever the partitioning.
   */
  @Test
  void heldOutRowsAreOutsideTheSampleAboutMaxRowsOfThemAndStable() {
    FitSample.Split split = FitSample.split(data.clean, "type", 1_000, 1);
    List<Long> fit = ids(split.fit());
    List<Long> heldOut = ids(split.heldOut());
    assertEquals(832, heldOut.size(), 98, "held out: " + heldOut.size() + ", fit: " + fit.size());
    assertTrue(heldOut.stream().noneMatch(new java.util.HashSet<>(fit)::contains), "held-out rows are not fit rows");
    assertEquals(heldOut, ids(FitSample.split(data.clean.repartition(7), "type", 1_000, 1).heldOut()));
    assertNull(FitSample.split(data.clean, "type", Spambase.ROWS, 1).heldOut(), "nothing is held out of every row");
  }

  private static Map<String, Long> classCounts(Dataset<Row> rows) {
    Map<String, Long> counts = new HashMap<>();
    rows.groupBy("type").count().collectAsList().forEach(r -> counts.put(r.getString(0), r.getLong(1)));
    return counts;
  }

  private static List<Long> ids(Dataset<Row> rows) {
    return rows.select(col(Columns.ID)).orderBy(Columns.ID).as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
  }
}
