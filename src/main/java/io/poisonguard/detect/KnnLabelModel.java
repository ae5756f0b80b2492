package io.poisonguard.detect;

import java.io.Serializable;
import java.util.Arrays;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link KnnLabelDetector}: the reference pool and the class thresholds. */
public class KnnLabelModel extends RowScoringModel<KnnLabelModel> {
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

  /** The k-nearest-neighbour search in the reference pool ({@link NeighbourPool}). */
  static final class Search implements Serializable {
    /** Rows per block of the top-k scan ({@link #nearest}). */
    static final int BLOCK = 64;
    private final State s;
    private final NeighbourPool pool;

    Search(State s) {
      this.s = s;
      pool = new NeighbourPool(s.pool(), s.keys());
    }

    /**
     * Laplace-smoothed class shares, (count + 1) / (k + classes), among the k nearest pool rows of {@code x},
     * skipping pool rows that share a near-duplicate key with {@code self}; ties in distance go to the earlier
     * pool row, so results do not depend on the scan.
     */
    double[] shares(double[] x, long[] self) {
      int size = pool.size();
      int k = Math.min(s.neighbors(), size);
      float[] closeness = pool.closeness(x, self);
      int[] at = nearest(closeness, size, k);
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

    /**
     * The pool rows of the {@code k} largest closenesses among the first {@code size}, largest first; −1 where fewer
     * than {@code k} are finite. Ties go to the earlier row; NaN is never near.
     *
     * <p>The scan first takes each block of {@value #BLOCK} rows' largest closeness ({@link PoolProduct#blockMaxima}):
     * the k-th largest of those, b, is a floor, since at least k rows reach it. Only blocks whose largest reaches b
     * are read, and in them only rows that reach b are inserted. On the 1M-row scale data against the guard's 5,000-row
     * pool (k = 10, 20,000 queries) that is 10.0 blocks and 10.6 rows per query, where a scan from the first row
     * inserted every row nearer than its k-th best so far, 70 to 80 of them; the scan took 2.0–2.1 µs per query
     * against 2.7–2.8, of which 0.6 µs is now the block maxima. The neighbours and their order are the same.
     */
    static int[] nearest(float[] closeness, int size, int k) {
      float[] best = new float[k];
      int[] at = new int[k];
      Arrays.fill(best, Float.NEGATIVE_INFINITY);
      Arrays.fill(at, -1);
      int blocks = (size + BLOCK - 1) / BLOCK;
      float[] maxima = new float[blocks];
      PoolProduct.blockMaxima(closeness, size, BLOCK, maxima);
      float floor = kthLargest(maxima, k);
      // a row below the floor is never among the k nearest; one at the floor may be (ties go to the earlier row)
      float below = Math.nextDown(floor);
      float worst = Float.NEGATIVE_INFINITY;
      for (int b = 0; b < blocks; b++) {
        if (maxima[b] < floor) {
          continue;
        }
        int end = Math.min(size, (b + 1) * BLOCK);
        int j = b * BLOCK;
        while (true) {
          j = PoolProduct.firstAbove(closeness, j, end, Math.max(worst, below));
          if (j >= end) {
            break;
          }
          float c = closeness[j];
          int pos = k - 1;
          while (pos > 0 && best[pos - 1] < c) {
            best[pos] = best[pos - 1];
            at[pos] = at[pos - 1];
            pos--;
          }
          best[pos] = c;
          at[pos] = j;
          worst = best[k - 1];
          j++;
        }
      }
      return at;
    }

    /** The k-th largest of the values that are not NaN, or −∞ when fewer than k are. */
    private static float kthLargest(float[] values, int k) {
      if (values.length < k) {
        return Float.NEGATIVE_INFINITY;
      }
      float[] top = new float[k];
      Arrays.fill(top, Float.NEGATIVE_INFINITY);
      for (float v : values) {
        if (v > top[k - 1]) {
          int pos = k - 1;
          while (pos > 0 && top[pos - 1] < v) {
            top[pos] = top[pos - 1];
            pos--;
          }
          top[pos] = v;
        }
      }
      return top[k - 1];
    }
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    Search search = new Search(s);
    ConfidentMargin margin = new ConfidentMargin(s.thresholds(), s.classNames());
    return (row, label) -> {
      if (Double.isNaN(label)) {
        return new Score(Double.NaN, null);
      }
      double[] share = search.shares(row.design(), s.groups().keys(row.values()));
      return margin.score(share, label);
    };
  }

  /** The fitted state, for a subclass's copy. */
  protected State state() {
    return state;
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
