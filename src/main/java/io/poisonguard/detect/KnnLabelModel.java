package io.poisonguard.detect;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
   * The pool laid out for the search: one flat feature-major array in single precision (all pool rows' first
   * feature, then their second, ..., then their squared norms), so that one product that runs along the pool
   * ({@link PoolProduct}) gives every pool row's closeness q·x − ‖x‖²/2, which ranks pool rows as the squared
   * distance ‖q‖² − 2 q·x + ‖x‖² does (‖q‖² is the same for all of them), largest closest. The product skips the
   * query's zero entries, most of them on sparse data. Feature-major because the rows are short (d + 1 entries) and
   * the pool long: the product then streams through vectors of pool length, which measured 1.4× faster per query
   * than one short dot product per pool row (5,000 × 33 pool, a BLAS product on this 2-core machine: 16.8 against
   * 22.5 µs, warm). Single precision because the product is bound by reading the pool, which then fits a core's
   * 1 MiB L2 cache (5,000 × 33 doubles do not). The norms ride in the product so that the top-k scan reads one
   * float per pool row: with the norms kept apart in double precision, the scan cost more than the product (a
   * standalone microbenchmark on a synthetic 5,000 × 33 pool: product and scan 23.8 against 14.3 µs per query, the
   * same top-k on 2,000 queries). Features are log-compressed, so a float's 7 digits only reorder neighbours whose
   * distances agree to about one part in 10⁶.
   */
  static final class Search implements Serializable {
    private final State s;
    private final float[] flat;
    /** Pool rows. */
    private final int size;
    /** Entries of a query: the features and the factor −1/2 of the norm row. */
    private final int width;
    /** Per hash table, the pool rows under each near-duplicate key. */
    private final List<Map<Long, int[]>> rowsByKey;
    private static final int[] NONE = {};
    private static final ThreadLocal<float[]> CLOSENESS = ThreadLocal.withInitial(() -> new float[0]);

    Search(State s) {
      this.s = s;
      size = s.pool().length;
      int dim = size == 0 ? 0 : s.pool()[0].length;
      width = dim + 1;
      flat = new float[size * width];
      for (int j = 0; j < size; j++) {
        double squares = 0;
        for (int i = 0; i < dim; i++) {
          float v = (float) s.pool()[j][i];
          flat[i * size + j] = v;
          // the norm of the rounded row, so that the closeness ranks by the distance to the row as it is searched
          squares += (double) v * v;
        }
        flat[dim * size + j] = (float) squares;
      }
      rowsByKey = rowsByKey(s.keys());
    }

    /** For each hash table, the pool rows (indices into {@code keys}) under each key. */
    private static List<Map<Long, int[]>> rowsByKey(long[][] keys) {
      int tables = keys.length == 0 ? 0 : keys[0].length;
      List<Map<Long, int[]>> byKey = new ArrayList<>();
      for (int t = 0; t < tables; t++) {
        Map<Long, List<Integer>> rows = new HashMap<>();
        for (int j = 0; j < keys.length; j++) {
          rows.computeIfAbsent(keys[j][t], key -> new ArrayList<>()).add(j);
        }
        Map<Long, int[]> table = new HashMap<>();
        rows.forEach((key, list) -> table.put(key, list.stream().mapToInt(Integer::intValue).toArray()));
        byKey.add(table);
      }
      return byKey;
    }

    /**
     * Laplace-smoothed class shares, (count + 1) / (k + classes), among the k nearest pool rows of {@code x},
     * skipping pool rows that share a near-duplicate key with {@code self}; ties in distance go to the earlier
     * pool row, so results do not depend on the scan.
     */
    double[] shares(double[] x, long[] self) {
      int k = Math.min(s.neighbors(), size);
      float[] closeness = closenessBuffer(size);
      if (size > 0) {
        float[] query = new float[width];
        int[] nonzero = new int[width];
        int count = 0;
        for (int i = 0; i < width - 1; i++) {
          query[i] = (float) x[i];
          if (query[i] != 0f) {
            nonzero[count++] = i;
          }
        }
        query[width - 1] = -0.5f;
        nonzero[count++] = width - 1;
        PoolProduct.sums(flat, size, query, nonzero, count, closeness);
        // The row's own near-copies are struck out before the scan: checked inside it, they made the scan cost
        // over twice the product (1M-row profile); struck out, scoring 1M rows took 9.1 instead of 14.4 s.
        for (int t = 0; t < rowsByKey.size(); t++) {
          for (int j : rowsByKey.get(t).getOrDefault(self[t], NONE)) {
            closeness[j] = Float.NEGATIVE_INFINITY;
          }
        }
      }
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
     * than {@code k} are finite. Ties go to the earlier row; NaN is never near. The scan skips ahead in a loop of its own while rows
     * are no closer than the k-th best so far, which is nearly every row once the first few hundred are seen: with
     * the insertion inside the same loop, the JIT compiled the scan to 15 µs per query against 4.6 µs (5,000-row
     * pool of compressed Spambase rows, 20,000 noisy queries, 78.7 insertions each), and the 1M-row guard profile
     * put the scan at twice the matrix-vector product.
     */
    static int[] nearest(float[] closeness, int size, int k) {
      float[] best = new float[k];
      int[] at = new int[k];
      Arrays.fill(best, Float.NEGATIVE_INFINITY);
      Arrays.fill(at, -1);
      float worst = Float.NEGATIVE_INFINITY;
      int j = 0;
      while (true) {
        while (j < size && !(closeness[j] > worst)) {
          j++;
        }
        if (j >= size) {
          return at;
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

    /**
     * This thread's buffer for the pool rows' closeness, at least {@code m} long: scoring a row would otherwise
     * allocate and zero a pool-length array, and rows are scored by the million.
     */
    private static float[] closenessBuffer(int m) {
      float[] buffer = CLOSENESS.get();
      if (buffer.length < m) {
        buffer = new float[m];
        CLOSENESS.set(buffer);
      }
      return buffer;
    }
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    Search search = new Search(s);
    ConfidentMargin margin = new ConfidentMargin(s.thresholds(), s.classNames());
    return (features, label) -> {
      if (Double.isNaN(label)) {
        return new Score(Double.NaN, null);
      }
      double[] share = search.shares(LogisticFits.design(features), s.groups().keys(features));
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
