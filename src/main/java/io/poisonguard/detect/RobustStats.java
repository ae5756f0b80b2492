package io.poisonguard.detect;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.broadcast;
import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Robust location and scale per group (class) and pooled, per feature, computed distributively in two
 * aggregation passes over a long (group, feature, value) view: pass 1 gives quartiles and the median, pass 2
 * the median and mean of absolute deviations from that median (and an optional upper quantile of them).
 * Only (groups + 1) × features numbers reach the driver.
 *
 * <p>Scale chain, because spambase-like data is zero-inflated and its MAD is often 0: 1.4826·MAD, else
 * IQR/1.349, else 1.2533·mean absolute deviation from the median, else 1. Each factor makes the estimate
 * consistent with the standard deviation under a normal distribution.
 */
final class RobustStats {
  /** Group key of the statistics over all rows (class indices are never negative). */
  static final double POOLED = -1.0;
  private static final int ACCURACY = 10_000;

  private RobustStats() {}

  /**
   * Statistics of one group.
   *
   * @param count rows with at least one observed value
   * @param median per-feature median (0 when a feature was never observed)
   * @param scale per-feature robust scale, always &gt; 0
   * @param tail per-feature upper quantile of |x − median| / scale at the requested level, at least 1
   *     (1 when no level was requested)
   */
  record Group(long count, double[] median, double[] scale, double[] tail) {}

  /**
   * Computes the statistics.
   *
   * @param data input rows (cache it first: it is read twice)
   * @param values array&lt;double&gt; column with {@code dim} entries; null and NaN entries are skipped
   * @param group double class column, or null for pooled statistics only; null/NaN classes count only in pooled
   * @param tailLevel quantile level of the tail statistic, or 0 for none
   * @return per group key (class index or {@link #POOLED}), its statistics
   */
  static Map<Double, Group> compute(Dataset<?> data, Column values, Column group, int dim, double tailLevel) {
    Column keys = group == null ? array(lit(POOLED))
        : when(group.isNull().or(isnan(group)), array(lit(POOLED))).otherwise(array(group.cast("double"), lit(POOLED)));
    Dataset<Row> longForm = data.select(explode(keys).as("g"), values.as("v"))
        .select(col("g"), posexplode(col("v")).as(new String[] {"i", "x"}))
        .where(col("x").isNotNull().and(not(isnan(col("x")))));

    // one row per (group, feature) reaches the driver: O(classes × features), whatever the row count
    List<Row> pass1 = longForm.groupBy("g", "i")
        .agg(count(col("x")).as("n"),
            percentile_approx(col("x"), array(lit(0.25), lit(0.5), lit(0.75)), lit(ACCURACY)).as("q"))
        .collectAsList();
    Map<Double, Long> counts = new HashMap<>();
    Map<Double, Group> groups = new HashMap<>();
    Map<Double, double[][]> quartiles = new HashMap<>();
    List<Row> medianRows = new ArrayList<>();
    for (Row r : pass1) {
      double g = r.getDouble(0);
      int i = r.getInt(1);
      List<Double> q = r.getList(3);
      double[][] qs = quartiles.computeIfAbsent(g, k -> new double[3][dim]);
      for (int k = 0; k < 3; k++) {
        qs[k][i] = q.get(k);
      }
      counts.merge(g, r.getLong(2), Math::max);
      groups.computeIfAbsent(g, k -> emptyGroup(dim)).median()[i] = q.get(1);
      medianRows.add(RowFactory.create(g, i, q.get(1)));
    }
    if (medianRows.isEmpty()) {
      return Map.of();
    }
    StructType medianSchema = new StructType().add("g", DataTypes.DoubleType).add("i", DataTypes.IntegerType)
        .add("m", DataTypes.DoubleType);
    Dataset<Row> medians = data.sparkSession().createDataFrame(medianRows, medianSchema);
    double level = tailLevel > 0 ? tailLevel : 0.5;
    // again one row per (group, feature)
    List<Row> pass2 = longForm.join(broadcast(medians), CollectionConverters.asScala(List.of("g", "i")).toSeq())
        .withColumn("d", abs(col("x").minus(col("m"))))
        .groupBy("g", "i")
        .agg(percentile_approx(col("d"), array(lit(0.5), lit(level)), lit(ACCURACY)).as("q"), avg(col("d")).as("mean"))
        .collectAsList();
    for (Row r : pass2) {
      double g = r.getDouble(0);
      int i = r.getInt(1);
      List<Double> q = r.getList(2);
      double[][] qs = quartiles.get(g);
      double scale = scale(q.get(0), qs[2][i] - qs[0][i], r.getDouble(3));
      groups.get(g).scale()[i] = scale;
      groups.get(g).tail()[i] = tailLevel > 0 ? Math.max(1.0, q.get(1) / scale) : 1.0;
    }
    Map<Double, Group> out = new HashMap<>();
    groups.forEach((g, grp) -> out.put(g, new Group(counts.get(g), grp.median(), grp.scale(), grp.tail())));
    return out;
  }

  /** The documented fallback chain; never returns 0 so a division is always defined. */
  static double scale(double mad, double iqr, double meanAbsDev) {
    if (mad > 0) {
      return 1.4826 * mad;
    }
    if (iqr > 0) {
      return iqr / 1.349;
    }
    if (meanAbsDev > 0) {
      return 1.2533 * meanAbsDev;
    }
    return 1.0;
  }

  private static Group emptyGroup(int dim) {
    double[] scale = new double[dim];
    double[] tail = new double[dim];
    Arrays.fill(scale, 1.0);
    Arrays.fill(tail, 1.0);
    return new Group(0, new double[dim], scale, tail);
  }
}
