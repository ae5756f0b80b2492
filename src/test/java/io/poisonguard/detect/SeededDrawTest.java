package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/**
 * The rows detectors bring to the driver do not depend on how the data is partitioned: the same Spambase rows in
 * 2, 7 or 1 partition(s), in another order, give the same draw, and the detectors that draw give the same scores.
 */
class SeededDrawTest extends OnSpambase {
  private static final Column SPAM = when(col("type").equalTo("spam"), lit(1.0)).otherwise(lit(0.0));

  /** The same rows split and ordered three ways. */
  private List<Dataset<Row>> layouts() {
    return List.of(data.clean, data.clean.repartition(7), data.clean.orderBy(desc(Columns.ID)).coalesce(1));
  }

  @Test
  void aCappedDrawIsTheSameRowsInTheSameOrderWhateverThePartitioning() {
    List<Row> first = null;
    for (Dataset<Row> rows : layouts()) {
      List<Row> drawn = SeededDraw.draw(rows, Spambase.ROWS, 500, 7, "test", col(Columns.ID), col("capitalAve"));
      assertEquals(500, drawn.size(), "the cap is reached");
      if (first == null) {
        first = drawn;
      }
      assertEquals(first, drawn);
    }
    List<Row> otherSeed = SeededDraw.draw(data.clean, Spambase.ROWS, 500, 8, "test", col(Columns.ID));
    assertNotEquals(first.stream().map(r -> r.get(0)).toList(), otherSeed.stream().map(r -> r.get(0)).toList(),
        "the seed chooses the rows");
  }

  @Test
  void anUncappedDrawHoldsEveryRowInAnOrderFixedByTheHash() {
    List<Row> all = SeededDraw.draw(data.clean, Spambase.ROWS, 10_000, 7, "test", col(Columns.ID));
    assertEquals(Spambase.ROWS, all.size());
    assertEquals(Spambase.ROWS, all.stream().map(r -> r.getLong(0)).distinct().count());
    assertEquals(all, SeededDraw.draw(data.clean.repartition(5), Spambase.ROWS, 10_000, 7, "test", col(Columns.ID)));
  }

  @Test
  void rowsWithoutAnIdAreHashedByWhatIsDrawn() {
    Column[] drawn = {col("capitalAve"), col("capitalLong"), col("free"), SPAM};
    List<Row> first = null;
    for (Dataset<Row> rows : layouts()) {
      List<Row> picked = SeededDraw.draw(rows.drop(Columns.ID), Spambase.ROWS, 800, 7, "test", drawn);
      assertEquals(800, picked.size());
      if (first == null) {
        first = picked;
      }
      assertEquals(first, picked);
    }
  }

  @Test
  void aDrawPerClassKeepsEachClassNearItsCapWhateverThePartitioning() {
    Map<Double, Long> classRows = new TreeMap<>();
    for (Row r : data.clean.groupBy(SPAM.as("c")).count().collectAsList()) {
      classRows.put(r.getDouble(0), r.getLong(1));
    }
    List<Row> first = null;
    for (Dataset<Row> rows : layouts()) {
      List<Row> drawn = SeededDraw.drawPerClass(rows, SPAM, classRows, 300, 7, "test", col(Columns.ID), SPAM);
      Map<Double, Long> perClass = drawn.stream().collect(Collectors.groupingBy(r -> r.getDouble(1),
          TreeMap::new, Collectors.counting()));
      // about 1.1 × 300 pass the hash filter of each class: the caller cuts to the cap
      perClass.values().forEach(n -> assertTrue(n >= 300 && n <= 400, "rows of a class " + perClass));
      assertEquals(List.copyOf(classRows.keySet()), List.copyOf(perClass.keySet()));
      if (first == null) {
        first = drawn;
      }
      assertEquals(first, drawn);
    }
  }

  /**
   * On 1,841 rows: below {@link io.poisonguard.spark.QuantileSketch#K} values the quantile sketches that also shape
   * these detectors (knn_label's near-duplicate hash) are exact; beyond it their compactions, merged in partition
   * order, vary with the partitioning within their rank error, which is not what this test is about.
   */
  @Test
  void detectorsThatDrawARowSampleFitTheSameWhateverThePartitioning() {
    Dataset<Row> rows = data.clean.where(functions.pmod(col(Columns.ID), lit(5)).lt(2));
    Dataset<Row> prepared = FeaturePreparer.forSchema(data.schema).fit(rows).transform(rows).cache();
    try {
      Dataset<Row> repartitioned = prepared.repartition(7);
      List<DetectorEstimator<?>> drawing = List.of(
          new IsolationForestDetector().setNumTrees(20).setMaxSamples(64).setSeed(3),
          new MahalanobisDetector().setMaxSampleRows(300).setSeed(3),
          new KnnLabelDetector().setMaxRows(600).setSeed(3));
      for (DetectorEstimator<?> detector : drawing) {
        String score = PoisonDetector.scoreColumn(detector.reasonCode());
        String evidence = PoisonDetector.evidenceColumn(detector.reasonCode());
        assertEquals(0, ScoreDifferences.count(detector.fit(prepared).transform(prepared),
            detector.fit(repartitioned).transform(prepared), score, evidence), detector.reasonCode());
      }
    } finally {
      prepared.unpersist();
    }
  }
}
