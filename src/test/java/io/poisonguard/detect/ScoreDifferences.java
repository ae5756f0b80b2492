package io.poisonguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.poisonguard.spark.Columns;
import java.util.Arrays;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Compares two scorings of the same rows, as the save/load and determinism tests of every detector do: the rows
 * (joined on {@code _pg_id}) where any of the named columns differ. Null-safe, so a score or evidence present on
 * one side and null on the other counts as a difference.
 */
final class ScoreDifferences {
  private ScoreDifferences() {}

  /** Rows where any of {@code columns} differ; asserts first that both scorings hold the same rows. */
  static long count(Dataset<Row> a, Dataset<Row> b, String... columns) {
    Column[] named = Arrays.stream(columns).map(Columns::col).toArray(Column[]::new);
    Dataset<Row> joined = a.select(Columns.col(Columns.ID), functions.struct(named).as("a"))
        .join(b.select(Columns.col(Columns.ID), functions.struct(named).as("b")), Columns.ID);
    assertEquals(a.count(), joined.count(), "both scorings hold the same rows");
    assertEquals(b.count(), joined.count(), "both scorings hold the same rows");
    return joined.where(functions.not(functions.col("a").eqNullSafe(functions.col("b")))).count();
  }
}
