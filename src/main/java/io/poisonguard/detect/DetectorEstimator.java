package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;

/**
 * Base of every detector Estimator: the shared column Params, a schema check before any work, and the
 * fit template that copies the Params onto the fitted model. Subclasses only compute their statistics.
 * Saved with Spark's default Params format, so detectors load inside a saved {@code Pipeline}.
 *
 * @param <M> the fitted model
 */
public abstract class DetectorEstimator<M extends DetectorModel<M>> extends Estimator<M>
    implements DetectorParams, MLWritable {
  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final Param<String> scoreCol;
  private final Param<String> evidenceCol;

  protected DetectorEstimator(String uid) {
    this.uid = uid;
    // Params need the uid of their parent at construction, hence created here and not in field initialisers.
    featuresCol = new Param<>(this, "featuresCol", "input vector column");
    labelCol = new Param<>(this, "labelCol", "input class-index column (double)");
    scoreCol = new Param<>(this, "scoreCol", "output raw score column");
    evidenceCol = new Param<>(this, "evidenceCol", "output evidence column");
    setDefault(featuresCol, Columns.FEATURES);
    setDefault(labelCol, Columns.LABEL_INDEX);
    setDefault(scoreCol, PoisonDetector.scoreColumn(reasonCode()));
    setDefault(evidenceCol, PoisonDetector.evidenceColumn(reasonCode()));
  }

  /**
   * Whether a pipeline that does not mention this detector runs it. True for the default suite; a detector whose
   * cost is not worth paying on every batch answers false and runs only when enabled ({@code enabled: true}).
   */
  public boolean enabledByDefault() {
    return true;
  }

  /**
   * Whether this detector is fitted on trusted rows together with a sample of the batch's, and so runs only when the
   * detection stage is fitted on trusted data ({@link BatchKnnLabelDetector}: a neighbour vote needs a pool dense
   * enough to find close neighbours in, which a small trusted sample is not). The calibration stays on the trusted
   * rows, scored by the same fitted detector as the batch's rows. False for the others.
   */
  public boolean poolsTheBatch() {
    return false;
  }

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
  public DetectorEstimator<M> setFeaturesCol(String value) {
    set(featuresCol, value);
    return this;
  }

  /** Sets the input class-index column. */
  public DetectorEstimator<M> setLabelCol(String value) {
    set(labelCol, value);
    return this;
  }

  /** Sets the output score column. */
  public DetectorEstimator<M> setScoreCol(String value) {
    set(scoreCol, value);
    return this;
  }

  /** Sets the output evidence column. */
  public DetectorEstimator<M> setEvidenceCol(String value) {
    set(evidenceCol, value);
    return this;
  }

  @Override
  public final M fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    M model = fitStatistics(dataset);
    copyValues(model, ParamMap.empty());
    model.setParent(this);
    return model;
  }

  /** Computes the detector's statistics on already validated input; must not collect the rows. */
  protected abstract M fitStatistics(Dataset<?> dataset);

  @Override
  public StructType transformSchema(StructType schema) {
    return outputSchema(schema);
  }

  @Override
  public Estimator<M> copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }
}
