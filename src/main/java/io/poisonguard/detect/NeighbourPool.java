package io.poisonguard.detect;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A reference pool laid out for neighbour search, shared by the detectors that look at a row's neighbours among
 * fit rows ({@link KnnLabelModel}, {@link KnnShapleyModel}): one flat feature-major array in single precision (all
 * pool rows' first feature, then their second, ..., then their squared norms), so that one product that runs along
 * the pool ({@link PoolProduct}) gives every pool row's closeness q·x − ‖x‖²/2, which ranks pool rows as the squared
 * distance ‖q‖² − 2 q·x + ‖x‖² does (‖q‖² is the same for all of them), largest closest. The product skips the
 * query's zero entries, most of them on sparse data. Feature-major because the rows are short (d + 1 entries) and
 * the pool long: the product then streams through vectors of pool length, which measured 1.4× faster per query
 * than one short dot product per pool row (5,000 × 33 pool, a BLAS product on this 2-core machine: 16.8 against
 * 22.5 µs, warm). Single precision because the product is bound by reading the pool, which then fits a core's
 * 1 MiB L2 cache (5,000 × 33 doubles do not). The norms ride in the product so that a scan of the result reads one
 * float per pool row: with the norms kept apart in double precision, the top-k scan cost more than the product (a
 * standalone microbenchmark on a synthetic 5,000 × 33 pool: product and scan 23.8 against 14.3 µs per query, the
 * same top-k on 2,000 queries). Features are log-compressed, so a float's 7 digits only reorder neighbours whose
 * distances agree to about one part in 10⁶.
 *
 * <p>A query never sees its own near-copies: pool rows that share a {@link NearDuplicateHash} key with it are struck
 * out, so in batch mode, where the pool is drawn from the rows being scored, a row and its copies cannot vouch for
 * themselves.
 */
final class NeighbourPool implements Serializable {
  private static final int[] NONE = {};
  private static final ThreadLocal<float[]> BUFFER = ThreadLocal.withInitial(() -> new float[0]);

  private final float[] flat;
  /** Pool rows. */
  private final int size;
  /** Entries of a query: the features and the factor −1/2 of the norm row. */
  private final int width;
  /** Per hash table, the pool rows under each near-duplicate key. */
  private final List<Map<Long, int[]>> rowsByKey;

  /**
   * @param pool [row][d+1] compressed features ({@link LogisticFits#design}) of the pool rows
   * @param keys [row][table] near-duplicate keys of each pool row
   */
  NeighbourPool(double[][] pool, long[][] keys) {
    size = pool.length;
    int dim = size == 0 ? 0 : pool[0].length;
    width = dim + 1;
    flat = new float[size * width];
    for (int j = 0; j < size; j++) {
      flat[dim * size + j] = (float) squaredNorm(pool[j]);
      for (int i = 0; i < dim; i++) {
        flat[i * size + j] = (float) pool[j][i];
      }
    }
    rowsByKey = rowsByKey(keys);
  }

  /** Pool rows. */
  int size() {
    return size;
  }

  /**
   * The squared norm of {@code x} as the pool holds it, each entry rounded to single precision, so that a distance
   * built from it ranks a row against pool rows as their own norms rank them.
   */
  static double squaredNorm(double[] x) {
    double squares = 0;
    for (double v : x) {
      float f = (float) v;
      squares += (double) f * f;
    }
    return squares;
  }

  /**
   * Every pool row's closeness to {@code x} (larger is nearer; the squared distance is ‖x‖² − 2 × closeness), with the
   * rows that share a near-duplicate key with {@code self} (when not null) set to −∞. The array is this thread's
   * buffer, valid until its next call, and may be longer than the pool: read its first {@link #size} entries.
   */
  float[] closeness(double[] x, long[] self) {
    float[] closeness = BUFFER.get();
    if (closeness.length < size) {
      closeness = new float[size];
      BUFFER.set(closeness);
    }
    if (size == 0) {
      return closeness;
    }
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
    // The row's own near-copies are struck out before any scan: checked inside the top-k scan, they made it cost
    // over twice the product (1M-row profile); struck out, scoring 1M rows took 9.1 instead of 14.4 s.
    for (int t = 0; self != null && t < rowsByKey.size(); t++) {
      for (int j : rowsByKey.get(t).getOrDefault(LogisticFits.mix(self[t]), NONE)) {
        closeness[j] = Float.NEGATIVE_INFINITY;
      }
    }
    return closeness;
  }

  /**
   * For each hash table, the pool rows (indices into {@code keys}) under each key, the key mixed
   * ({@link LogisticFits#mix}, one to one, so rows share a mixed key exactly when they share the key). Unmixed, the
   * keys (polynomials in a few small grid coordinates) fold to 32-bit hash codes that crowd into a few of the map's
   * bins: in the 1M-row guard's flight recording its lookups walked tree bins (2% of the scoring pass's samples, in
   * a recording without -XX:+DebugNonSafepoints, which can charge inlined code to the wrong frame: a rough share).
   * Mixed, the pool keys of the 1M scale data fill these maps without a single tree bin.
   */
  private static List<Map<Long, int[]>> rowsByKey(long[][] keys) {
    int tables = keys.length == 0 ? 0 : keys[0].length;
    List<Map<Long, int[]>> byKey = new ArrayList<>();
    for (int t = 0; t < tables; t++) {
      Map<Long, List<Integer>> rows = new HashMap<>();
      for (int j = 0; j < keys.length; j++) {
        rows.computeIfAbsent(LogisticFits.mix(keys[j][t]), key -> new ArrayList<>()).add(j);
      }
      Map<Long, int[]> table = new HashMap<>();
      rows.forEach((key, list) -> table.put(key, list.stream().mapToInt(Integer::intValue).toArray()));
      byKey.add(table);
    }
    return byKey;
  }
}
