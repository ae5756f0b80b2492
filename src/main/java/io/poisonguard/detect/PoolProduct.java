package io.poisonguard.detect;

/**
 * The product at the heart of the neighbour search ({@link KnnLabelModel}): every pool row's dot product with a
 * query, summed over the query's nonzero entries only. Prepared rows of sparse data (word counts, flags) are mostly
 * zeros, and a dense matrix-vector product spends most of its time on them: on the 1M-row scale data 11.6 of a
 * query's 33 entries (32 features and the intercept) are nonzero. Per query against a 5,000-row pool of resampled
 * spambase rows (7.6 nonzero entries of 33, a standalone microbenchmark on this 2-core machine): 1.8 µs on the
 * vector kernel against 8.7 µs for the dense BLAS product the search used before; 32 µs on the scalar loop against
 * 48 µs for the dense product without the vector module.
 *
 * <p>Each pool row's sum is accumulated in the order of the nonzero entries with fused multiply-adds, whichever
 * kernel computes it, so the results are the same to the bit on every executor: the JDK's vector API
 * ({@link VectorPoolProduct}) where its module is present ({@code --add-modules=jdk.incubator.vector}, in
 * {@code conf/jvm.options} and among Spark's default module options for drivers and executors), else the scalar
 * loop here.
 */
final class PoolProduct {
  /** Whether the vector module is present: the vector kernel's class is loaded only then. */
  private static final boolean VECTOR = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

  private PoolProduct() {}

  /**
   * Writes into {@code out[0, size)} each pool row's sum over the query's nonzero entries, {@code query[c]} times
   * the row's entry c, taken in the order {@code nonzero} lists them.
   *
   * @param pool entries in feature-major order: entry c of row r at {@code c * size + r}
   * @param size pool rows
   * @param query the query's entries
   * @param nonzero positions of the query's nonzero entries, the first {@code count} of them used
   * @param count how many
   * @param out receives the sums
   */
  static void sums(float[] pool, int size, float[] query, int[] nonzero, int count, float[] out) {
    if (VECTOR) {
      VectorPoolProduct.sums(pool, size, query, nonzero, count, out);
    } else {
      scalarSums(pool, size, query, nonzero, count, out, 0);
    }
  }

  /** {@link #sums} for the pool rows from {@code from} on, one row at a time. */
  static void scalarSums(float[] pool, int size, float[] query, int[] nonzero, int count, float[] out, int from) {
    for (int r = from; r < size; r++) {
      float sum = 0f;
      for (int i = 0; i < count; i++) {
        int c = nonzero[i];
        sum = Math.fma(pool[c * size + r], query[c], sum);
      }
      out[r] = sum;
    }
  }

  /**
   * The first position in {@code [from, size)} whose value is above {@code bound}, or {@code size} when none is (NaN is
   * never above): how the top-k scan of the neighbour search ({@link KnnLabelModel.Search#nearest}) skips the pool rows
   * that cannot be among the k nearest.
   */
  static int firstAbove(float[] values, int from, int size, float bound) {
    return VECTOR ? VectorPoolProduct.firstAbove(values, from, size, bound)
        : scalarFirstAbove(values, from, size, bound);
  }

  /**
   * Writes into {@code out[b]} the largest of {@code values[b·block, min((b+1)·block, size))} for every block b; NaN
   * where the block holds one.
   *
   * @param block rows per block, a multiple of 64
   */
  static void blockMaxima(float[] values, int size, int block, float[] out) {
    if (VECTOR) {
      VectorPoolProduct.blockMaxima(values, size, block, out);
    } else {
      scalarBlockMaxima(values, size, block, out, 0);
    }
  }

  /** {@link #blockMaxima} from block {@code from} on, one value at a time. */
  static void scalarBlockMaxima(float[] values, int size, int block, float[] out, int from) {
    for (int b = from; b * block < size; b++) {
      float max = Float.NEGATIVE_INFINITY;
      for (int i = b * block, end = Math.min(size, i + block); i < end; i++) {
        max = Math.max(max, values[i]);
      }
      out[b] = max;
    }
  }

  /** {@link #firstAbove}, one value at a time. */
  static int scalarFirstAbove(float[] values, int from, int size, float bound) {
    int i = from;
    while (i < size && !(values[i] > bound)) {
      i++;
    }
    return i;
  }
}
