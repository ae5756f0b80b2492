package io.poisonguard.redteam;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Per-feature low and high quantiles of the clean rows, from one approximate-quantile pass. */
record Quantiles(List<String> features, double[] low, double[] high) {
  static Quantiles of(Dataset<Row> rows, List<String> features, double lowLevel, double highLevel) {
    double[][] q = rows.stat().approxQuantile(features.stream().map(io.poisonguard.spark.Columns::quote)
        .toArray(String[]::new), new double[] {lowLevel, highLevel},
        1e-4);
    double[] low = new double[features.size()];
    double[] high = new double[features.size()];
    for (int j = 0; j < features.size(); j++) {
      low[j] = q[j].length == 2 ? q[j][0] : 0;
      high[j] = q[j].length == 2 ? q[j][1] : 0;
    }
    return new Quantiles(features, low, high);
  }
}
