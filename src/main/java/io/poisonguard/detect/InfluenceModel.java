package io.poisonguard.detect;

import java.io.Serializable;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link InfluenceDetector}: the logistic model, the Cholesky factor of H and s = H⁻¹∇L. */
public final class InfluenceModel extends RowScoringModel<InfluenceModel> {
  /**
   * Fitted state, per class model (one for two classes, one per class otherwise).
   *
   * @param classes number of classes
   * @param weights [model][d+1] coefficients, intercept last
   * @param hessianFactor [model][(d+1)²] lower Cholesky factor of the penalised Hessian, row-major
   * @param direction [model][d+1] s = H⁻¹ ∇L(trusted)
   */
  public record State(int classes, double[][] weights, double[][] hessianFactor, double[][] direction)
      implements Serializable {}

  /** Influence below this (or negative: the row helps the trusted fit) is no evidence; keeps the log finite. */
  private static final double FLOOR = 1e-12;

  private final State state;

  InfluenceModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return InfluenceDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    // The score is already a logarithm; calibrating log1p of it would compress its tail twice.
    return false;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    int models = s.weights().length;
    return (row, label) -> {
      if (Double.isNaN(label) || label < 0 || label >= s.classes()) {
        return new Score(Double.NaN, null);
      }
      double[] x = row.design();
      double influence = 0;
      double self = 0;
      for (int m = 0; m < models; m++) {
        double p = LogisticFits.sigmoid(LogisticFits.dot(s.weights()[m], x));
        double r = p - LogisticFits.target(models, m, (int) label);
        // xᵀH⁻¹x = |L⁻¹x|² with H = L·Lᵀ: one triangular solve, no inverse kept.
        double[] u = LogisticFits.forward(s.hessianFactor()[m], x, x.length);
        double quadratic = LogisticFits.dot(u, u);
        influence += -r * LogisticFits.dot(s.direction()[m], x) + 0.5 * r * r * quadratic;
        self += p * (1 - p) * quadratic;
      }
      double onTrusted = influence;
      double onItself = self;
      return new Score(Math.log(Math.max(onTrusted, FLOOR)),
          () -> "influence=" + Evidence.significant(onTrusted, 6) + ",self=" + Evidence.fixed(onItself, 3));
    };
  }

  @Override
  public InfluenceModel copy(ParamMap extra) {
    return copyValues(new InfluenceModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<InfluenceModel> read() {
    return StateIO.reader(InfluenceModel.class, State.class, InfluenceModel::new);
  }

  /** Loads a saved model. */
  public static InfluenceModel load(String path) {
    return read().load(path);
  }
}
