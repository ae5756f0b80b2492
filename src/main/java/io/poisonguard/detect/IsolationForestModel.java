package io.poisonguard.detect;

import java.util.Locale;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/**
 * A fitted {@link IsolationForestDetector}. Score {@code 2^(−E[h(x)] / c(n))} in (0, 1): about 0.5 or less for
 * ordinary rows, towards 1 for rows isolated early; evidence is the mean path length.
 */
public final class IsolationForestModel extends DetectorModel<IsolationForestModel> {
  private final State state;

  /**
   * What the model learned.
   *
   * @param trees the forest
   * @param samplesPerTree rows each tree was grown on (n in c(n))
   */
  public record State(IsolationTree[] trees, int samplesPerTree) implements java.io.Serializable {}

  /** A model with the given uid and state. */
  public IsolationForestModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return IsolationForestDetector.CODE;
  }

  @Override
  protected ScoreWithEvidence scorer() {
    IsolationTree[] trees = state.trees();
    double normaliser = IsolationTree.averagePathLength(state.samplesPerTree());
    return (x, label, evidence) -> {
      double total = 0;
      for (IsolationTree tree : trees) {
        total += tree.pathLength(x);
      }
      double mean = total / trees.length;
      evidence.append("path=").append(String.format(Locale.ROOT, "%.1f", mean));
      return normaliser == 0 ? 0.5 : Math.pow(2, -mean / normaliser);
    };
  }

  @Override
  public IsolationForestModel copy(ParamMap extra) {
    return copyValues(new IsolationForestModel(uid(), state), extra);
  }

  @Override
  public MLWriter write() {
    return ModelState.writer(this, state);
  }

  /** Reader for saved models. */
  public static MLReader<IsolationForestModel> read() {
    return ModelState.reader(State.class, IsolationForestModel::new);
  }

  /** Loads a saved model. */
  public static IsolationForestModel load(String path) {
    return read().load(path);
  }
}
