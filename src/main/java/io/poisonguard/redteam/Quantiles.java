package io.poisonguard.redteam;

import io.poisonguard.spark.ColumnQuantiles;
import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Per-feature low and high quantiles of the clean rows, from one pass of sketches merged in partition order, so the
 * same data give the same attack however it is partitioned.
 */
record Quantiles(List<String> features, double[] low, double[] high) {
  /** Sketch accuracy: rank error about 2/k = 0.02%, fine for the backdoor's 0.999 level; exact up to k rows. */
  private static final int SKETCH_K = 10_000;

  static Quantiles of(Dataset<Row> rows, List<String> features, double lowLevel, double highLevel) {
    double[][] q = ColumnQuantiles.of(rows, features.stream().map(Columns::col).toList(),
        new double[] {lowLevel, highLevel}, SKETCH_K);
    double[] low = new double[features.size()];
    double[] high = new double[features.size()];
    for (int j = 0; j < features.size(); j++) {
      low[j] = q[j].length == 2 ? q[j][0] : 0;
      high[j] = q[j].length == 2 ? q[j][1] : 0;
    }
    return new Quantiles(features, low, high);
  }
}
