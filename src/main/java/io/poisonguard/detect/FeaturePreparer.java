package io.poisonguard.detect;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.asc;
import static org.apache.spark.sql.functions.coalesce;
import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.lit;

import io.poisonguard.config.ConfigException;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.param.StringArrayParam;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The preparation every detector shares, fitted on reference data: numeric features imputed with the
 * reference median and robustly scaled, {@code (x − median) / scale} (scale chain in {@link RobustStats});
 * categorical features encoded as rarity {@code −log(share in reference)}; the label indexed to
 * {@code _pg_label_index} in sorted string order. Output: {@code _pg_features} (vector whose ML attributes
 * carry the feature names, so evidence can name features) and {@code _pg_label_index}.
 *
 * <p>Categorical values: at most {@code maxCategories} most frequent values per column are kept; any other
 * value, including values unseen in the reference, gets the rarity of a value seen once when the reference has
 * such values (new values are then expected), else of half the smallest kept share. A null
 * categorical value is a category of its own. Labels unseen in the reference (and null labels, or a missing
 * label column at transform time) get index NaN, which detectors treat as "class unknown".
 */
public final class FeaturePreparer extends Estimator<FeaturePreparerModel> implements MLWritable {
  /** Category standing for a null categorical value (a missing value is information, not noise). */
  static final String NULL_CATEGORY = "\u0000null";
  private static final int MAX_CLASSES = 10_000;

  private final String uid;
  private final Param<String> labelCol;
  private final StringArrayParam numericCols;
  private final StringArrayParam categoricalCols;
  private final Param<String> outputCol;
  private final Param<String> labelIndexCol;
  private final IntParam maxCategories;

  /** A preparer with a generated uid. */
  public FeaturePreparer() {
    this(Identifiable.randomUID("pgPreparer"));
  }

  /** A preparer with the given uid (used by copy and load). */
  public FeaturePreparer(String uid) {
    this.uid = uid;
    labelCol = new Param<>(this, "labelCol", "label column (read as string)");
    numericCols = new StringArrayParam(this, "numericCols", "numeric feature columns");
    categoricalCols = new StringArrayParam(this, "categoricalCols", "categorical feature columns");
    outputCol = new Param<>(this, "outputCol", "output vector column");
    labelIndexCol = new Param<>(this, "labelIndexCol", "output class-index column");
    maxCategories = new IntParam(this, "maxCategories", "most frequent values kept per categorical column",
        ParamValidators.gtEq(1));
    setDefault(numericCols, new String[0]);
    setDefault(categoricalCols, new String[0]);
    setDefault(outputCol, Columns.FEATURES);
    setDefault(labelIndexCol, Columns.LABEL_INDEX);
    setDefault(maxCategories, 10_000);
  }

  /** A preparer for the columns a batch's schema declares. */
  public static FeaturePreparer forSchema(FeatureSchema schema) {
    return new FeaturePreparer().setLabelCol(schema.labelColumn())
        .setNumericCols(schema.numericFeatures().toArray(new String[0]))
        .setCategoricalCols(schema.categoricalFeatures().toArray(new String[0]));
  }

  @Override
  public String uid() {
    return uid;
  }

  public Param<String> labelCol() {
    return labelCol;
  }

  public StringArrayParam numericCols() {
    return numericCols;
  }

  public StringArrayParam categoricalCols() {
    return categoricalCols;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> labelIndexCol() {
    return labelIndexCol;
  }

  public IntParam maxCategories() {
    return maxCategories;
  }

  public int getMaxCategories() {
    return (Integer) getOrDefault(maxCategories);
  }

  public FeaturePreparer setLabelCol(String value) {
    set(labelCol, value);
    return this;
  }

  public FeaturePreparer setNumericCols(String[] value) {
    set(numericCols, value);
    return this;
  }

  public FeaturePreparer setCategoricalCols(String[] value) {
    set(categoricalCols, value);
    return this;
  }

  public FeaturePreparer setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public FeaturePreparer setLabelIndexCol(String value) {
    set(labelIndexCol, value);
    return this;
  }

  public FeaturePreparer setMaxCategories(int value) {
    set(maxCategories, value);
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    if (!isDefined(labelCol)) {
      throw new ConfigException("FeaturePreparer: labelCol is not set");
    }
    String[] numeric = getOrDefault(numericCols);
    String[] categorical = getOrDefault(categoricalCols);
    if (numeric.length + categorical.length == 0) {
      throw new ConfigException("FeaturePreparer: no feature columns given; declare numeric or categorical features");
    }
    List<String> present = Arrays.asList(schema.fieldNames());
    if (!present.contains(getOrDefault(labelCol))) {
      throw new ConfigException("label column '" + getOrDefault(labelCol) + "' not found; columns present: "
          + String.join(", ", schema.fieldNames()));
    }
    return FeaturePreparerModel.outputSchema(schema, numeric, categorical, getOrDefault(outputCol),
        getOrDefault(labelIndexCol));
  }

  @Override
  public FeaturePreparerModel fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    String[] numeric = getOrDefault(numericCols);
    String[] categorical = getOrDefault(categoricalCols);
    String label = getOrDefault(labelCol);
    List<Column> needed = new ArrayList<>();
    needed.add(col(label));
    Arrays.stream(numeric).map(c -> col(c).cast("double").as(c)).forEach(needed::add);
    Arrays.stream(categorical).map(c -> col(c).cast("string").as(c)).forEach(needed::add);
    // Read once from the source, then several small aggregations over the cached columns.
    Dataset<Row> data = dataset.select(needed.toArray(new Column[0])).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      long rows = data.count();
      if (rows == 0) {
        throw new ConfigException("FeaturePreparer: the reference data is empty; nothing to fit on");
      }
      double[] median = new double[numeric.length];
      double[] scale = new double[numeric.length];
      Arrays.fill(scale, 1.0);
      if (numeric.length > 0) {
        Column values = array(Arrays.stream(numeric).map(c -> col(c)).toArray(Column[]::new));
        RobustStats.Group pooled =
            RobustStats.compute(data, values, null, numeric.length, 0).get(RobustStats.POOLED);
        if (pooled != null) {
          System.arraycopy(pooled.median(), 0, median, 0, numeric.length);
          System.arraycopy(pooled.scale(), 0, scale, 0, numeric.length);
        }
      }
      List<Map<String, Double>> rarity = new ArrayList<>();
      double[] unseen = new double[categorical.length];
      for (int j = 0; j < categorical.length; j++) {
        Map<String, Double> codes = new LinkedHashMap<>();
        long smallest = rows;
        // at most maxCategories rows: the most frequent values and their counts
        for (Row r : data.groupBy(coalesce(col(categorical[j]), lit(NULL_CATEGORY)).as("v")).count()
            .orderBy(desc("count"), asc("v")).limit(getMaxCategories()).collectAsList()) {
          codes.put(r.getString(0), -Math.log((double) r.getLong(1) / rows));
          smallest = Math.min(smallest, r.getLong(1));
        }
        rarity.add(codes);
        // Values seen once in the reference mean new values keep coming (Good-Turing: the chance that the next row
        // brings an unseen value is the share of values seen once), so an unseen value is as rare as one seen once;
        // without any, an unseen value is rarer than every kept one. For a column of distinct values (a date, an
        // id) seen and unseen then encode alike, instead of shifting every row of a batch off a trusted sample.
        unseen[j] = smallest == 1 ? -Math.log(1.0 / rows) : -Math.log(smallest / 2.0 / rows);
      }
      List<String> labels = new ArrayList<>();
      // at most MAX_CLASSES + 1 rows: the class names
      for (Row r : data.select(col(label).cast("string")).where(col(label).isNotNull()).distinct()
          .orderBy(col(label).cast("string")).limit(MAX_CLASSES + 1).collectAsList()) {
        labels.add(r.getString(0));
      }
      // Java's order, not Spark's UTF-8 byte order, so the index order is exactly "sorted by string".
      Collections.sort(labels);
      if (labels.size() > MAX_CLASSES) {
        throw new ConfigException("label column '" + label + "' has more than " + MAX_CLASSES
            + " distinct values; check the label column in the pipeline file");
      }
      FeaturePreparerModel.State state = new FeaturePreparerModel.State(numeric, median, scale, categorical,
          rarity, unseen, labels.toArray(new String[0]));
      FeaturePreparerModel model = new FeaturePreparerModel(uid, state);
      copyValues(model, ParamMap.empty());
      model.setParent(this);
      return model;
    } finally {
      data.unpersist();
    }
  }

  @Override
  public FeaturePreparer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  /** Reader for saved preparers (also found by {@code Pipeline} load through reflection). */
  public static MLReader<FeaturePreparer> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved preparer. */
  public static FeaturePreparer load(String path) {
    return read().load(path);
  }
}
