package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The preparation every detector shares, done once: numeric features imputed with the reference median and
 * robustly scaled ({@code (x − median) / scale}, scale as in {@link ClassStatistics#robustScale}); categorical
 * features encoded as rarity {@code −ln(share in the reference)}; the label indexed (classes sorted by name).
 * Output: the vector {@link Columns#FEATURES} with feature names and {@link Columns#LABEL_INDEX} with class names
 * in their column metadata. Fitted on the trusted reference when there is one, so the batch under inspection
 * cannot move its own yardstick.
 */
public final class FeaturePreparer extends Estimator<FeaturePreparerModel> implements MLWritable {
  /** Categories remembered per column; rarer ones count as unseen. */
  static final int MAX_CATEGORIES = 1000;
  private static final int ACCURACY = 10_000;

  private final String uid;
  private final StringArrayParam numericCols;
  private final StringArrayParam categoricalCols;
  private final Param<String> labelCol;

  /** A preparer with a random uid. */
  public FeaturePreparer() {
    this(Identifiable.randomUID("featurePreparer"));
  }

  /** A preparer with the given uid. */
  public FeaturePreparer(String uid) {
    this.uid = uid;
    numericCols = new StringArrayParam(this, "numericCols", "numeric feature columns");
    categoricalCols = new StringArrayParam(this, "categoricalCols", "categorical feature columns");
    labelCol = new Param<>(this, "labelCol", "label column");
    setDefault(numericCols, new String[0]);
    setDefault(categoricalCols, new String[0]);
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Numeric feature columns. */
  public StringArrayParam numericCols() {
    return numericCols;
  }

  /** Categorical feature columns. */
  public StringArrayParam categoricalCols() {
    return categoricalCols;
  }

  /** Label column. */
  public Param<String> labelCol() {
    return labelCol;
  }

  /** Sets the columns to prepare. */
  public FeaturePreparer setColumns(List<String> numeric, List<String> categorical, String label) {
    set(numericCols, numeric.toArray(String[]::new));
    set(categoricalCols, categorical.toArray(String[]::new));
    set(labelCol, label);
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    for (String c : getOrDefault(numericCols)) {
      require(schema, c, true);
    }
    for (String c : getOrDefault(categoricalCols)) {
      require(schema, c, false);
    }
    if (!isDefined(labelCol)) {
      throw new IllegalArgumentException("FeaturePreparer: labelCol is not set");
    }
    require(schema, getOrDefault(labelCol), false);
    if (getOrDefault(numericCols).length + getOrDefault(categoricalCols).length == 0) {
      throw new IllegalArgumentException("FeaturePreparer: no feature columns");
    }
    return schema.add(Columns.FEATURES, new org.apache.spark.ml.linalg.VectorUDT(), false)
        .add(Columns.LABEL_INDEX, DataTypes.DoubleType, false);
  }

  private static void require(StructType schema, String name, boolean numeric) {
    StructField f = java.util.Arrays.stream(schema.fields()).filter(x -> x.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("column '" + name + "' is missing"));
    if (numeric && !(f.dataType() instanceof NumericType)) {
      throw new IllegalArgumentException("column '" + name + "' must be numeric, found "
          + f.dataType().simpleString());
    }
    if (!numeric && !(f.dataType() instanceof StringType) && !(f.dataType() instanceof NumericType)) {
      throw new IllegalArgumentException("column '" + name + "' must be a string, found "
          + f.dataType().simpleString());
    }
  }

  @Override
  public FeaturePreparerModel fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    String[] numeric = getOrDefault(numericCols);
    String[] categorical = getOrDefault(categoricalCols);
    double[] medians = new double[numeric.length];
    double[] scales = new double[numeric.length];
    if (numeric.length > 0) {
      List<Column> quantiles = new ArrayList<>();
      for (String c : numeric) {
        quantiles.add(functions.percentile_approx(finite(c), functions.lit(new double[] {0.25, 0.5, 0.75}),
            functions.lit(ACCURACY)));
      }
      Row q = dataset.agg(quantiles.get(0), quantiles.subList(1, quantiles.size()).toArray(Column[]::new)).head();
      double[] iqr = new double[numeric.length];
      List<Column> deviations = new ArrayList<>();
      for (int j = 0; j < numeric.length; j++) {
        List<Double> v = q.isNullAt(j) ? List.of(0.0, 0.0, 0.0) : q.getList(j);
        medians[j] = v.get(1);
        iqr[j] = v.get(2) - v.get(0);
        Column dev = functions.abs(finite(numeric[j]).minus(medians[j]));
        deviations.add(functions.percentile_approx(dev, functions.lit(0.5), functions.lit(ACCURACY)));
        deviations.add(functions.avg(dev));
      }
      Row d = dataset.agg(deviations.get(0), deviations.subList(1, deviations.size()).toArray(Column[]::new)).head();
      for (int j = 0; j < numeric.length; j++) {
        scales[j] = ClassStatistics.robustScale(d.isNullAt(2 * j) ? 0 : d.getDouble(2 * j), iqr[j],
            d.isNullAt(2 * j + 1) ? 0 : d.getDouble(2 * j + 1));
      }
    }
    Map<String, Map<String, Double>> rarity = new LinkedHashMap<>();
    for (String c : categorical) {
      rarity.put(c, new LinkedHashMap<>());
    }
    List<String> labels = new ArrayList<>();
    long rows = 0;
    // one row per class, and at most MAX_CATEGORIES rows per categorical column come back
    for (Row r : dataset.groupBy(functions.col(getOrDefault(labelCol)).cast("string")).count()
        .orderBy(functions.col(getOrDefault(labelCol)).cast("string")).collectAsList()) {
      if (!r.isNullAt(0)) {
        labels.add(r.getString(0));
      }
      rows += r.getLong(1);
    }
    if (categorical.length > 0) {
      Column[] pairs = java.util.Arrays.stream(categorical).map(c -> functions.struct(functions.lit(c).as("column"),
          functions.col(c).cast("string").as("value"))).toArray(Column[]::new);
      var byCount = org.apache.spark.sql.expressions.Window.partitionBy("column")
          .orderBy(functions.col("count").desc(), functions.col("value"));
      List<Row> counts = dataset.select(functions.explode(functions.array(pairs)).as("p"))
          .select("p.column", "p.value").groupBy("column", "value").count()
          .withColumn("rank", functions.row_number().over(byCount))
          .filter(functions.col("rank").leq(MAX_CATEGORIES)).collectAsList();
      for (Row r : counts) {
        String value = r.isNullAt(1) ? FeaturePreparerModel.MISSING : r.getString(1);
        rarity.get(r.getString(0)).put(value, -Math.log(r.getLong(2) / (double) Math.max(1, rows)));
      }
    }
    FeaturePreparerModel.State state = new FeaturePreparerModel.State(numeric, medians, scales, categorical, rarity,
        -Math.log(0.5 / Math.max(1, rows)), labels.toArray(String[]::new));
    FeaturePreparerModel model = new FeaturePreparerModel(uid, state);
    model.set(model.labelCol(), getOrDefault(labelCol));
    model.setParent(this);
    return model;
  }

  /** The column as a double with NaN and infinities turned into nulls, which quantiles and averages skip. */
  static Column finite(String column) {
    Column c = functions.col(column).cast("double");
    return functions.when(functions.not(functions.isnan(c)).and(c.notEqual(Double.POSITIVE_INFINITY))
        .and(c.notEqual(Double.NEGATIVE_INFINITY)), c);
  }

  @Override
  public FeaturePreparer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return ModelState.writer(this, Map.of());
  }

  /** Reader for saved preparers. */
  public static MLReader<FeaturePreparer> read() {
    return ModelState.reader(Map.class, (uid, state) -> new FeaturePreparer(uid));
  }

  /** Loads a saved preparer. */
  public static FeaturePreparer load(String path) {
    return read().load(path);
  }
}
