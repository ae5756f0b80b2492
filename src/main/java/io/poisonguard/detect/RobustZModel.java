package io.poisonguard.detect;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link RobustZDetector}: per class (and pooled) medians, scales and tail scales. */
public final class RobustZModel extends RowScoringModel<RobustZModel> {
  /**
   * Fitted state; row 0 of each matrix is the pooled statistics.
   *
   * @param features feature names, for evidence
   * @param classes class index of each row ({@code -1} = pooled)
   * @param median per class and feature
   * @param scale per class and feature, &gt; 0
   * @param tail per class and feature, ≥ 1
   */
  public record State(String[] features, double[] classes, double[][] median, double[][] scale, double[][] tail)
      implements Serializable {}

  private final State state;

  RobustZModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return RobustZDetector.CODE;
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
    Map<Double, Integer> row = new HashMap<>();
    for (int k = 1; k < s.classes().length; k++) {
      row.put(s.classes()[k], k);
    }
    return (prepared, label) -> {
      double[] x = prepared.values();
      int k = row.getOrDefault(label, 0);
      double best = -1;
      double bestZ = 0;
      int at = 0;
      for (int i = 0; i < s.features().length; i++) {
        double z = (x[i] - s.median()[k][i]) / s.scale()[k][i];
        double r = Math.abs(z) / s.tail()[k][i];
        if (r > best) {
          best = r;
          bestZ = z;
          at = i;
        }
      }
      String feature = s.features()[at];
      double z = bestZ;
      return new Score(best, () -> "feature=" + feature + ",z=" + Evidence.fixed(z, 1));
    };
  }

  @Override
  public RobustZModel copy(ParamMap extra) {
    return copyValues(new RobustZModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<RobustZModel> read() {
    return StateIO.reader(RobustZModel.class, State.class, RobustZModel::new);
  }

  /** Loads a saved model. */
  public static RobustZModel load(String path) {
    return read().load(path);
  }
}
