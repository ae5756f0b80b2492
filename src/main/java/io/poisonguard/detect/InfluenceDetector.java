package io.poisonguard.detect;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Influence functions (Koh &amp; Liang 2017) for a ridge logistic model: how much would the row raise the
 * loss of the trusted data if it were trained on?
 *
 * <p>Fit: a ridge logistic model θ on the fit data ({@link LogisticFits}: two classes = one model; more =
 * one-vs-rest models, whose summed log-losses are the loss, so a row's influence is the sum over them). The
 * fit data is the trusted data (the trusted sample, else the batch itself). A last Newton pass
 * gives, at θ, the penalised Hessian H and the trusted data-loss gradient ∇L; the driver solves
 * {@code s = H⁻¹ ∇L} and keeps the Cholesky factor of H ((d+1)² numbers per class model).
 *
 * <p>Score, per row z with residual r = p − y and features x (compressed, with intercept), in one map:
 * <pre>  influence(z) = −r·(s·x) + ½·r²·(xᵀH⁻¹x)</pre>
 * the predicted change of the trusted loss when z is added to the training data, to second order in the
 * parameter change Δθ = −H⁻¹·r·x. The first term is the classical first-order influence. It alone is not
 * enough here: the model is fitted on the trusted data itself, so ∇L at θ is only the ridge's pull (−λθ)
 * and the first-order term is near zero for every row. The second term, half the squared gradient in the
 * H⁻¹ metric (the Cook's-distance form), is what a mislabelled or far-off row costs the trusted fit; it is
 * also what leave-one-out retraining measures for a fit row (the others' loss with and without it).
 *
 * <p>The raw score is {@code ln(influence)}, floored at 1e-12 (rows that help the trusted fit carry no
 * evidence): a well-fitted row's influence is exponentially small in its margin, so on the raw scale the bulk
 * of a batch is flat and calibration on that bulk would call every misfit row extreme (measured: 9.5% of
 * clean spambase flagged in batch mode); on the log scale the bulk spreads like a margin. Evidence:
 * {@code influence=…,self=…} with the raw influence and self = the leverage p(1−p)·xᵀH⁻¹x.
 *
 * <p>Cost: about ten passes over the fit data at {@code classModels × (d+1)²} per row; transform costs
 * {@code classModels × (d+1)²} per row (one triangular solve). Rows of unknown class score NaN.
 */
public final class InfluenceDetector extends DetectorEstimator<InfluenceModel> {
  /** Reason code and registry name. */
  public static final String CODE = "influence";

  private final DoubleParam ridge;

  /** A detector with a generated uid. */
  public InfluenceDetector() {
    this(Identifiable.randomUID("pgInfluence"));
  }

  /** A detector with the given uid (used by copy and load). */
  public InfluenceDetector(String uid) {
    super(uid);
    ridge = new DoubleParam(this, "ridge", "per-row L2 penalty of the logistic model (> 0); also keeps H invertible",
        ParamValidators.gt(0));
    setDefault(ridge, 1e-3);
  }

  @Override
  public String reasonCode() {
    return CODE;
  }

  @Override
  public boolean unboundedScore() {
    // The score is already a logarithm (see the class comment).
    return false;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  public DoubleParam ridge() {
    return ridge;
  }

  public double getRidge() {
    return (Double) getOrDefault(ridge);
  }

  public InfluenceDetector setRidge(double value) {
    set(ridge, value);
    return this;
  }

  @Override
  protected InfluenceModel fitStatistics(Dataset<?> dataset) {
    Dataset<Row> labelled = LabelConsistencyDetector.labelledRows(dataset, getFeaturesCol(), getLabelCol());
    int classes = LabelConsistencyDetector.classCount(labelled, LogisticFits.classNames(dataset, getLabelCol()), CODE);
    JavaRDD<LogisticFits.Example> rows = SharedLogisticFit.examples(labelled);
    try {
      int dim = rows.first().x().length;
      LogisticFits.Fit fit = SharedLogisticFit.of(dataset, getFeaturesCol(), getLabelCol(), getRidge(),
          () -> LogisticFits.fit(rows, 1, classes, dim, getRidge()));
      int models = LogisticFits.classModels(classes);
      double[][] factor = new double[models][];
      double[][] direction = new double[models][];
      for (int m = 0; m < models; m++) {
        factor[m] = LogisticFits.cholesky(fit.hessian()[0][m], dim);
        direction[m] = LogisticFits.solve(factor[m], fit.gradient()[0][m], dim);
      }
      return new InfluenceModel(uid(), new InfluenceModel.State(classes, fit.weights()[0], factor, direction));
    } finally {
      rows.unpersist(false);
    }
  }

  /** Reader for saved detectors (also found by {@code Pipeline} load through reflection). */
  public static MLReader<InfluenceDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static InfluenceDetector load(String path) {
    return read().load(path);
  }
}
