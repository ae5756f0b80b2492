package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.util.Map;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A detector to be fitted: checks its input columns before any work, fits on prepared rows (the trusted sample
 * when there is one) and hands its column params on to the model.
 *
 * @param <M> the model it fits
 */
public abstract class DetectorEstimator<M extends DetectorModel<M>> extends Estimator<M> implements PoisonDetector,
    MLWritable {
  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final LongParam seed;

  protected DetectorEstimator(String uid) {
    this.uid = uid;
    this.featuresCol = new Param<>(uid, "featuresCol", "prepared feature vector column");
    this.labelCol = new Param<>(uid, "labelCol", "class index column (double)");
    this.seed = new LongParam(uid, "seed", "seed for every random choice of the fit");
    setDefault(featuresCol, Columns.FEATURES);
    setDefault(labelCol, Columns.LABEL_INDEX);
    setDefault(seed, 42L);
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

  /** Seed of the fit. */
  public LongParam seed() {
    return seed;
  }

  /** Sets the seed. */
  public DetectorEstimator<M> setSeed(long value) {
    set(seed, value);
    return this;
  }

  /** Fits the model on rows that {@link #transformSchema} accepted. */
  protected abstract M fitPrepared(Dataset<Row> prepared);

  @Override
  public M fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    M model = fitPrepared(dataset.toDF());
    model.set(model.featuresCol(), getOrDefault(featuresCol));
    model.set(model.labelCol(), getOrDefault(labelCol));
    model.setParent(this);
    return model;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    DetectorModel.requireColumn(schema, getOrDefault(featuresCol), true);
    DetectorModel.requireColumn(schema, getOrDefault(labelCol), false);
    return schema.add(scoreColumn(), org.apache.spark.sql.types.DataTypes.DoubleType, false)
        .add(evidenceColumn(), org.apache.spark.sql.types.DataTypes.StringType, true);
  }

  @Override
  public DetectorEstimator<M> copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return ModelState.writer(this, Map.of());
  }
}
