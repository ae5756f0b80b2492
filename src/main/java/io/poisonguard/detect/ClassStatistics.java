package io.poisonguard.detect;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Robust location and scale of every feature within every class, from two grouped passes (quantiles, then
 * absolute deviations from the class median). Shared by the detectors that judge a row against its own class.
 *
 * <p>Scale falls back along 1.4826·MAD, IQR/1.349, 1.2533·mean absolute deviation (each a consistent estimate of
 * the standard deviation under normality), then the pooled scale of 1 in prepared units: zero-inflated features
 * (most of Spambase) have a MAD of 0 within a class, and a zero scale would make any non-zero value infinitely
 * surprising.
 *
 * @param medians per class index, per feature
 * @param scales per class index, per feature, never zero
 * @param counts rows per class index
 */
public record ClassStatistics(double[][] medians, double[][] scales, long[] counts) {
  private static final int ACCURACY = 10_000;

  /** Computes the statistics of {@code numClasses} classes from prepared rows. */
  public static ClassStatistics compute(Dataset<Row> prepared, String featuresCol, String labelCol, int numFeatures,
      int numClasses) {
    Column label = functions.col(labelCol).cast("double");
    Dataset<Row> rows = prepared.select(functions.when(functions.isnan(label), -1).otherwise(label.cast("int")).as("c"),
        org.apache.spark.ml.functions.vector_to_array(functions.col(featuresCol), "float64").as("x"))
        .filter(functions.col("c").geq(0));
    List<Column> quantiles = new ArrayList<>();
    for (int j = 0; j < numFeatures; j++) {
      quantiles.add(functions.percentile_approx(functions.col("x").getItem(j),
          functions.lit(new double[] {0.25, 0.5, 0.75}), functions.lit(ACCURACY)));
    }
    quantiles.add(functions.count(functions.lit(1)));
    double[][] medians = new double[numClasses][numFeatures];
    double[][] iqr = new double[numClasses][numFeatures];
    long[] counts = new long[numClasses];
    // one row per class comes back
    for (Row r : rows.groupBy("c").agg(quantiles.get(0), quantiles.subList(1, quantiles.size())
        .toArray(Column[]::new)).collectAsList()) {
      int c = r.getInt(0);
      for (int j = 0; j < numFeatures; j++) {
        List<Double> q = r.getList(1 + j);
        medians[c][j] = q.get(1);
        iqr[c][j] = q.get(2) - q.get(0);
      }
      counts[c] = r.getLong(1 + numFeatures);
    }
    Dataset<Row> withMedian = rows.join(functions.broadcast(medianTable(prepared, medians)), "c");
    List<Column> deviations = new ArrayList<>();
    for (int j = 0; j < numFeatures; j++) {
      Column dev = functions.abs(functions.col("x").getItem(j).minus(functions.col("m").getItem(j)));
      deviations.add(functions.percentile_approx(dev, functions.lit(0.5), functions.lit(ACCURACY)));
      deviations.add(functions.avg(dev));
    }
    double[][] scales = new double[numClasses][numFeatures];
    for (double[] s : scales) {
      java.util.Arrays.fill(s, 1.0);
    }
    for (Row r : withMedian.groupBy("c").agg(deviations.get(0), deviations.subList(1, deviations.size())
        .toArray(Column[]::new)).collectAsList()) {
      int c = r.getInt(0);
      for (int j = 0; j < numFeatures; j++) {
        scales[c][j] = robustScale(r.getDouble(1 + 2 * j), iqr[c][j], r.getDouble(2 + 2 * j));
      }
    }
    return new ClassStatistics(medians, scales, counts);
  }

  /** The first positive of 1.4826·MAD, IQR/1.349, 1.2533·meanAD, else 1. */
  static double robustScale(double mad, double iqr, double meanAbsoluteDeviation) {
    if (mad > 0) {
      return 1.4826 * mad;
    }
    if (iqr > 0) {
      return iqr / 1.349;
    }
    if (meanAbsoluteDeviation > 0) {
      return 1.2533 * meanAbsoluteDeviation;
    }
    return 1.0;
  }

  private static Dataset<Row> medianTable(Dataset<Row> prepared, double[][] medians) {
    List<Row> rows = new ArrayList<>();
    for (int c = 0; c < medians.length; c++) {
      rows.add(org.apache.spark.sql.RowFactory.create(c, scala.jdk.javaapi.CollectionConverters.asScala(
          java.util.Arrays.stream(medians[c]).boxed().toList()).toSeq()));
    }
    return prepared.sparkSession().createDataFrame(rows, new org.apache.spark.sql.types.StructType()
        .add("c", org.apache.spark.sql.types.DataTypes.IntegerType)
        .add("m", org.apache.spark.sql.types.DataTypes.createArrayType(
            org.apache.spark.sql.types.DataTypes.DoubleType)));
  }
}
