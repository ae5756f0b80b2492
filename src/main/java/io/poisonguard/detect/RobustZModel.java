package io.poisonguard.detect;

import java.util.Locale;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link RobustZDetector}: class medians and scales; scores the largest within-class |z|. */
public final class RobustZModel extends DetectorModel<RobustZModel> {
  private final State state;

  /**
   * What the model learned.
   *
   * @param medians per class index and feature
   * @param scales per class index and feature
   * @param featureNames names of the prepared features, for evidence
   */
  public record State(double[][] medians, double[][] scales, String[] featureNames)
      implements java.io.Serializable {}

  /** A model with the given uid and state. */
  public RobustZModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return RobustZDetector.CODE;
  }

  /** The learned state. */
  public State state() {
    return state;
  }

  @Override
  protected ScoreWithEvidence scorer() {
    State s = state;
    return (x, label, evidence) -> {
      int c = (int) label;
      boolean known = !Double.isNaN(label) && c >= 0 && c < s.medians().length;
      double best = 0;
      int at = -1;
      double bestZ = 0;
      for (int j = 0; j < x.size(); j++) {
        // unseen classes are judged against the pooled scale: prepared features have median 0 and scale 1
        double z = known ? (x.apply(j) - s.medians()[c][j]) / s.scales()[c][j] : x.apply(j);
        if (Math.abs(z) > best || at < 0) {
          best = Math.abs(z);
          bestZ = z;
          at = j;
        }
      }
      evidence.append("feature=").append(s.featureNames()[at])
          .append(",z=").append(String.format(Locale.ROOT, "%.1f", bestZ));
      return best;
    };
  }

  @Override
  public RobustZModel copy(ParamMap extra) {
    return copyValues(new RobustZModel(uid(), state), extra);
  }

  @Override
  public MLWriter write() {
    return ModelState.writer(this, state);
  }

  /** Reader for saved models. */
  public static MLReader<RobustZModel> read() {
    return ModelState.reader(State.class, RobustZModel::new);
  }

  /** Loads a saved model. */
  public static RobustZModel load(String path) {
    return read().load(path);
  }
}
