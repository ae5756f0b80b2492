package io.poisonguard.detect;

import java.io.Serializable;
import java.util.Arrays;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link KnnLabelDetector}: the reference pool and the class thresholds. */
public final class KnnLabelModel extends RowScoringModel<KnnLabelModel> {
  /**
   * Fitted state.
   *
   * @param neighbors k
   * @param classes number of classes
   * @param pool [row][d+1] compressed features of the reference pool (intercept entry included, constant)
   * @param labels class index of each pool row
   * @param groups the near-duplicate hash
   * @param keys [row][table] near-duplicate keys of each pool row, to skip a row's own copies
   * @param thresholds per-class mean own-class neighbour share in the pool
   * @param classNames class names for evidence, or null (indices are shown)
   */
  public record State(int neighbors, int classes, double[][] pool, int[] labels, NearDuplicateHash groups,
      long[][] keys, double[] thresholds, String[] classNames) implements Serializable {}

  private final State state;

  KnnLabelModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return KnnLabelDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    return false;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  /** Rows in the reference pool. */
  public int poolSize() {
    return state.pool().length;
  }

  /**
   * Laplace-smoothed class shares, (count + 1) / (k + classes), among the k nearest pool rows of {@code x},
   * skipping pool rows that share a near-duplicate key with {@code self}; ties in distance go to the earlier
   * pool row, so results do not depend on the scan.
   */
  static double[] shares(State s, double[] x, long[] self) {
    int k = Math.min(s.neighbors(), s.pool().length);
    double[] best = new double[k];
    int[] at = new int[k];
    Arrays.fill(best, Double.POSITIVE_INFINITY);
    Arrays.fill(at, -1);
    for (int j = 0; j < s.pool().length; j++) {
      if (sameGroup(s.keys()[j], self)) {
        continue;
      }
      double[] q = s.pool()[j];
      double d = 0;
      for (int i = 0; i < x.length && d < best[k - 1]; i++) {
        double diff = x[i] - q[i];
        d += diff * diff;
      }
      if (d < best[k - 1]) {
        // Insertion into the sorted top-k.
        int pos = k - 1;
        while (pos > 0 && best[pos - 1] > d) {
          best[pos] = best[pos - 1];
          at[pos] = at[pos - 1];
          pos--;
        }
        best[pos] = d;
        at[pos] = j;
      }
    }
    // Laplace-smoothed shares: with k votes a unanimous count is not certainty (and keeps log-odds finite).
    double[] share = new double[s.classes()];
    Arrays.fill(share, 1);
    double total = s.classes();
    for (int a : at) {
      if (a >= 0) {
        share[s.labels()[a]]++;
        total++;
      }
    }
    for (int c = 0; c < share.length; c++) {
      share[c] /= total;
    }
    return share;
  }

  private static boolean sameGroup(long[] a, long[] b) {
    for (int t = 0; t < a.length; t++) {
      if (a[t] == b[t]) {
        return true;
      }
    }
    return false;
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    ConfidentMargin margin = new ConfidentMargin(s.thresholds(), s.classNames());
    return (features, label) -> {
      if (Double.isNaN(label)) {
        return new Score(Double.NaN, null);
      }
      double[] share = shares(s, LogisticFits.design(features), s.groups().keys(features));
      return margin.score(share, label);
    };
  }

  @Override
  public KnnLabelModel copy(ParamMap extra) {
    return copyValues(new KnnLabelModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<KnnLabelModel> read() {
    return StateIO.reader(KnnLabelModel.class, State.class, KnnLabelModel::new);
  }

  /** Loads a saved model. */
  public static KnnLabelModel load(String path) {
    return read().load(path);
  }
}
