package io.poisonguard.sanitize;

import io.poisonguard.spark.ColumnQuantiles;
import io.poisonguard.spark.Columns;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Clips numeric features to quantile bounds learned on reference data, so that a value far outside what the
 * reference saw cannot reach training at full strength. Bounds come from one pass of quantile sketches.
 */
public final class Winsorizer {
  /**
   * Sketch accuracy (rank error about 0.015%), fine enough for bounds at the 0.1% and 99.9% levels; bounds are
   * only as precise as the reference is large.
   */
  private static final int SKETCH_K = 20_000;

  private final Map<String, double[]> bounds;

  private Winsorizer(Map<String, double[]> bounds) {
    this.bounds = bounds;
  }

  /** Learns the {@code lower} and {@code upper} quantile of each numeric column of {@code reference}. */
  public static Winsorizer fit(Dataset<Row> reference, List<String> numericColumns, double lower, double upper) {
    // sketches merged in partition order, so that a rerun clips the clean rows it writes to the same bounds
    double[][] q = ColumnQuantiles.of(reference, numericColumns.stream().map(Columns::col).toList(),
        new double[] {lower, upper}, SKETCH_K);
    Map<String, double[]> bounds = new LinkedHashMap<>();
    for (int i = 0; i < numericColumns.size(); i++) {
      if (q[i].length == 2) {
        bounds.put(numericColumns.get(i), q[i]);
      }
    }
    return new Winsorizer(bounds);
  }

  /** {@code rows} with every bounded column clipped; nulls and NaN stay as they are. */
  public Dataset<Row> transform(Dataset<Row> rows) {
    Dataset<Row> out = rows;
    for (Map.Entry<String, double[]> e : bounds.entrySet()) {
      Column c = Columns.col(e.getKey());
      Column clipped = functions.when(c.lt(e.getValue()[0]), e.getValue()[0])
          .when(c.gt(e.getValue()[1]), e.getValue()[1]).otherwise(c);
      out = out.withColumn(e.getKey(), clipped);
    }
    return out;
  }
}
