package io.poisonguard.detect;

import java.io.Serializable;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link IsolationForestDetector}: the trees, scored per row where the row lives. */
public final class IsolationForestModel extends RowScoringModel<IsolationForestModel> {
  private static final double EULER_GAMMA = 0.5772156649015329;

  /**
   * One tree as flat arrays indexed by node; the root is node 0.
   *
   * @param feature split feature, −1 for a leaf
   * @param split split value: rows with {@code x[feature] < split} go left
   * @param left left child
   * @param right right child
   * @param size training rows that reached the node (used at leaves)
   */
  public record Tree(int[] feature, double[] split, int[] left, int[] right, int[] size) implements Serializable {}

  /**
   * Fitted state.
   *
   * @param features feature names
   * @param sampleSize rows per tree (ψ), the normaliser of the score
   * @param trees the forest
   */
  public record State(String[] features, int sampleSize, Tree[] trees) implements Serializable {}

  private final State state;

  IsolationForestModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return IsolationForestDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    return false;
  }

  @Override
  public boolean usesLabel() {
    return false;
  }

  /**
   * Average path length of an unsuccessful search in a binary search tree of n nodes: the expected depth
   * still to go below a leaf holding n rows, and the normaliser of the score.
   */
  static double averagePathLength(long n) {
    if (n <= 1) {
      return 0;
    }
    if (n == 2) {
      return 1;
    }
    double harmonic = Math.log(n - 1.0) + EULER_GAMMA;
    return 2 * harmonic - 2.0 * (n - 1) / n;
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    double norm = Math.max(averagePathLength(s.sampleSize()), 1e-9);
    // each leaf's expected remaining depth, once per model instead of a logarithm per tree for every row
    double[][] remaining = new double[s.trees().length][];
    for (int t = 0; t < remaining.length; t++) {
      int[] size = s.trees()[t].size();
      remaining[t] = new double[size.length];
      for (int node = 0; node < size.length; node++) {
        remaining[t][node] = averagePathLength(size[node]);
      }
    }
    return (features, label) -> {
      double[] x = features.toArray();
      double total = 0;
      for (int t = 0; t < remaining.length; t++) {
        Tree tree = s.trees()[t];
        int node = 0;
        int depth = 0;
        while (tree.feature()[node] >= 0) {
          node = x[tree.feature()[node]] < tree.split()[node] ? tree.left()[node] : tree.right()[node];
          depth++;
        }
        total += depth + remaining[t][node];
      }
      double mean = total / remaining.length;
      return new Score(Math.pow(2, -mean / norm), () -> "path=" + Evidence.fixed(mean, 1));
    };
  }

  @Override
  public IsolationForestModel copy(ParamMap extra) {
    return copyValues(new IsolationForestModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<IsolationForestModel> read() {
    return StateIO.reader(IsolationForestModel.class, State.class, IsolationForestModel::new);
  }

  /** Loads a saved model. */
  public static IsolationForestModel load(String path) {
    return read().load(path);
  }
}
