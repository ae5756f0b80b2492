package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Simes bound on hand-computed rows: the combined p, the flag, and which detectors are named. */
@ExtendWith(SharedSpark.class)
class SimesCombinationTest {
  private static final double TARGET = 0.01;

  @Test
  void boundFlagAndReasonsMatchTheHandComputedAnswer(SparkSession spark) {
    StructType schema = new StructType().add("id", DataTypes.IntegerType)
        .add("a", DataTypes.DoubleType).add("b", DataTypes.DoubleType).add("c", DataTypes.DoubleType);
    Dataset<Row> rows = spark.createDataFrame(List.of(
        // one strong detector: 3 × 0.001 / 1 = 0.003; cut 0.01 / 3, so only "a" is named
        RowFactory.create(1, 0.001, 0.5, 0.9),
        // two moderate ones: min(3 × 0.006 / 1, 3 × 0.006 / 2) = 0.009 ≤ 0.01; cut 2 × 0.01 / 3 names both
        RowFactory.create(2, 0.006, 0.006, 0.9),
        // alone, 0.006 is not enough: 3 × 0.006 = 0.018, and no level is reached
        RowFactory.create(3, 0.9, 0.006, 0.5),
        // nothing: the bound is capped at 1, the poison score is 0
        RowFactory.create(4, 1.0, 1.0, 1.0)), schema);
    List<Column> p = List.of(col("a"), col("b"), col("c"));
    List<Column> reasons = List.of(lit("a:x"), lit("b:y"), lit("c:z"));
    List<Row> out = new SimesCombination().combine(rows, p, reasons, TARGET)
        .select(col("id"), col(Columns.POISON_SCORE), col(Columns.FLAGGED), col(Columns.REASONS))
        .orderBy("id").collectAsList();
    assertRow(out.get(0), 1 - 0.003, true, List.of("a:x"));
    assertRow(out.get(1), 1 - 0.009, true, List.of("a:x", "b:y"));
    assertRow(out.get(2), 1 - 0.018, false, List.of());
    assertRow(out.get(3), 0.0, false, List.of());
  }

  private static void assertRow(Row row, double score, boolean flagged, List<String> reasons) {
    assertEquals(score, row.getDouble(1), 1e-12, "poison score of row " + row.getInt(0));
    assertEquals(flagged, row.getBoolean(2), "flag of row " + row.getInt(0));
    assertEquals(reasons, row.getList(3), "reasons of row " + row.getInt(0));
  }
}
