package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A fitted detector: adds its score and evidence columns to prepared rows. Scoring runs per row inside Spark
 * tasks through {@link #scorer()}; subclasses only say how one row is scored and what state they save.
 *
 * @param <M> the concrete model type
 */
public abstract class DetectorModel<M extends DetectorModel<M>> extends Model<M> implements PoisonDetector,
    MLWritable {
  private static final StructType SCORED = new StructType().add("score", DataTypes.DoubleType, false)
      .add("evidence", DataTypes.StringType, true);

  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;

  protected DetectorModel(String uid) {
    this.uid = uid;
    this.featuresCol = new Param<>(uid, "featuresCol", "prepared feature vector column");
    this.labelCol = new Param<>(uid, "labelCol", "class index column (double)");
    setDefault(featuresCol, Columns.FEATURES);
    setDefault(labelCol, Columns.LABEL_INDEX);
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Prepared feature vector column. */
  public Param<String> featuresCol() {
    return featuresCol;
  }

  /** Class index column. */
  public Param<String> labelCol() {
    return labelCol;
  }

  /** The per-row scoring function, capturing only this model's fitted state. */
  protected abstract ScoreWithEvidence scorer();

  @Override
  public StructType transformSchema(StructType schema) {
    requireColumn(schema, getOrDefault(featuresCol), true);
    requireColumn(schema, getOrDefault(labelCol), false);
    return schema.add(scoreColumn(), DataTypes.DoubleType, false).add(evidenceColumn(), DataTypes.StringType, true);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    // the fitted state travels once per executor as a broadcast, not inside every task
    Broadcast<ScoreWithEvidence> scorer = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext())
        .broadcast(scorer());
    UserDefinedFunction udf = functions.udf((UDF2<Vector, Double, Row>) (features, label) -> {
      StringBuilder evidence = new StringBuilder();
      double score = scorer.value().score(features, label == null ? Double.NaN : label, evidence);
      return RowFactory.create(score, evidence.length() == 0 ? null : evidence.toString());
    }, SCORED);
    String tmp = "__" + reasonCode() + "_scored";
    Column label = functions.col(getOrDefault(labelCol)).cast("double");
    return dataset.withColumn(tmp, udf.apply(functions.col(getOrDefault(featuresCol)), label))
        .withColumn(scoreColumn(), functions.col(tmp + ".score"))
        .withColumn(evidenceColumn(), functions.col(tmp + ".evidence"))
        .drop(tmp);
  }

  static void requireColumn(StructType schema, String name, boolean vector) {
    StructField field = java.util.Arrays.stream(schema.fields()).filter(f -> f.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("column '" + name + "' is missing; run the "
            + "FeaturePreparer first (it adds " + Columns.FEATURES + " and " + Columns.LABEL_INDEX + ")"));
    boolean ok = vector ? field.dataType() instanceof VectorUDT : field.dataType() instanceof NumericType;
    if (!ok) {
      throw new IllegalArgumentException("column '" + name + "' must be " + (vector ? "a vector" : "numeric")
          + ", found " + field.dataType().simpleString());
    }
  }
}
