package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.io.Serializable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.Vector;
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
import org.apache.spark.sql.types.StructType;

/**
 * Base of every fitted detector: shared column Params and the scoring mechanics. A subclass supplies a
 * {@link RowScorer} (its fitted state, small); this class broadcasts it once per transform and scores each
 * row where it lives, writing the score and evidence columns. No row ever reaches the driver.
 *
 * @param <M> the concrete model type
 */
public abstract class DetectorModel<M extends DetectorModel<M>> extends Model<M>
    implements DetectorParams, MLWritable {
  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final Param<String> scoreCol;
  private final Param<String> evidenceCol;

  protected DetectorModel(String uid) {
    this.uid = uid;
    featuresCol = new Param<>(this, "featuresCol", "input vector column");
    labelCol = new Param<>(this, "labelCol", "input class-index column (double)");
    scoreCol = new Param<>(this, "scoreCol", "output raw score column");
    evidenceCol = new Param<>(this, "evidenceCol", "output evidence column");
    setDefault(featuresCol, Columns.FEATURES);
    setDefault(labelCol, Columns.LABEL_INDEX);
    setDefault(scoreCol, PoisonDetector.scoreColumn(reasonCode()));
    setDefault(evidenceCol, PoisonDetector.evidenceColumn(reasonCode()));
  }

  /** A raw score and the evidence that explains it. */
  public record Score(double value, String evidence) implements Serializable {}

  /** The fitted state as a function of one row; serialisable so it can be broadcast to executors. */
  @FunctionalInterface
  public interface RowScorer extends Serializable {
    /**
     * Scores one prepared row.
     *
     * @param features the prepared feature vector
     * @param label the class index, NaN when unknown (always NaN for detectors that ignore labels)
     */
    Score score(Vector features, double label);
  }

  /** The fitted state as a scorer. */
  protected abstract RowScorer scorer();

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public Param<String> featuresCol() {
    return featuresCol;
  }

  @Override
  public Param<String> labelCol() {
    return labelCol;
  }

  @Override
  public Param<String> scoreCol() {
    return scoreCol;
  }

  @Override
  public Param<String> evidenceCol() {
    return evidenceCol;
  }

  /** Sets the input vector column. */
  public M setFeaturesCol(String value) {
    set(featuresCol, value);
    return self();
  }

  /** Sets the input class-index column. */
  public M setLabelCol(String value) {
    set(labelCol, value);
    return self();
  }

  /** Sets the output score column. */
  public M setScoreCol(String value) {
    set(scoreCol, value);
    return self();
  }

  /** Sets the output evidence column. */
  public M setEvidenceCol(String value) {
    set(evidenceCol, value);
    return self();
  }

  @SuppressWarnings("unchecked")
  private M self() {
    return (M) this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return outputSchema(schema);
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    Broadcast<RowScorer> model =
        JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext()).broadcast(scorer());
    StructType scored = new StructType()
        .add("score", DataTypes.DoubleType, false)
        .add("evidence", DataTypes.StringType, true);
    UserDefinedFunction udf = functions.udf((UDF2<Vector, Double, Row>) (features, label) -> {
      Score s = model.value().score(features, label == null ? Double.NaN : label);
      return RowFactory.create(s.value(), s.evidence());
      // Marked non-deterministic only so the optimiser does not inline the call once per extracted field
      // (it would score every row twice); the scores themselves are deterministic.
    }, scored).asNondeterministic();
    Column label = usesLabel() ? Columns.col(getLabelCol()).cast("double") : functions.lit(Double.NaN);
    String tmp = Columns.PREFIX + "scored_" + uid;
    return dataset.toDF()
        .withColumn(tmp, udf.apply(Columns.col(getFeaturesCol()), label))
        .withColumn(getScoreCol(), Columns.col(tmp).getField("score"))
        .withColumn(getEvidenceCol(), Columns.col(tmp).getField("evidence"))
        .drop(tmp);
  }
}
