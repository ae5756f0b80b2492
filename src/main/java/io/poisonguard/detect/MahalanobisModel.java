package io.poisonguard.detect;

import java.io.Serializable;
import java.util.Arrays;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link MahalanobisDetector}: per class, the robust location and the Cholesky factor of the scatter. */
public final class MahalanobisModel extends RowScoringModel<MahalanobisModel> {
  /**
   * Fitted state.
   *
   * @param features feature names, for evidence
   * @param mean [class][d] robust location, null for a class with too few rows
   * @param factor [class][d²] lower Cholesky factor of the robust scatter, null likewise
   */
  public record State(String[] features, double[][] mean, double[][] factor) implements Serializable {}

  private final State state;

  MahalanobisModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  /** The representation distances are measured in: log-compressed prepared features, no intercept. */
  static double[] compressed(Vector features) {
    return compressed(LogisticFits.design(features));
  }

  /** {@link #compressed(Vector)} from the row's design vector. */
  static double[] compressed(double[] design) {
    return Arrays.copyOf(design, design.length - 1);
  }

  @Override
  public String reasonCode() {
    return MahalanobisDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    return true;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    return (row, label) -> {
      int c = (int) label;
      if (Double.isNaN(label) || c < 0 || c >= s.mean().length || s.mean()[c] == null) {
        return new Score(Double.NaN, null);
      }
      double[] x = compressed(row.design());
      double[] terms = RobustCovariance.contributions(x, s.mean()[c], s.factor()[c]);
      double distance = 0;
      int top = 0;
      for (int i = 0; i < terms.length; i++) {
        distance += terms[i];
        if (terms[i] > terms[top]) {
          top = i;
        }
      }
      double squared = Math.max(distance, 0);
      String feature = s.features()[top];
      return new Score(squared, () -> "feature=" + feature + ",distance=" + Evidence.fixed(Math.sqrt(squared), 1));
    };
  }

  @Override
  public MahalanobisModel copy(ParamMap extra) {
    return copyValues(new MahalanobisModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<MahalanobisModel> read() {
    return StateIO.reader(MahalanobisModel.class, State.class, MahalanobisModel::new);
  }

  /** Loads a saved model. */
  public static MahalanobisModel load(String path) {
    return read().load(path);
  }
}
