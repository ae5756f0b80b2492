package io.poisonguard.detect;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PoolProduct#sums} and {@link PoolProduct#firstAbove} on the JDK's vector API. The sums: blocks of four vectors
 * of pool rows are summed over all the query's nonzero entries in registers, then stored once. Loaded only where the
 * vector module is present.
 *
 * <p>The species is the JDK's widest ({@code SPECIES_MAX}). On this project's 2-core AVX-512 machine (JDK 17) the
 * kernel ran ten times slower on {@code SPECIES_PREFERRED}, {@code SPECIES_512} or {@code SPECIES_256} (on the
 * first, {@code -XX:+PrintIntrinsics} showed the vector intrinsics failing to inline; a microbenchmark: 5,000 × 33
 * pool, a third of the entries nonzero, 20,000 queries: 2.9 µs per query on {@code SPECIES_MAX} against 28–39 µs;
 * a dense BLAS product of the same pool 9.5 µs).
 */
final class VectorPoolProduct {
  private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_MAX;
  private static final int LANES = SPECIES.length();
  private static final int BLOCK = 4 * LANES;

  private VectorPoolProduct() {}

  /** See {@link PoolProduct#sums}. */
  static void sums(float[] pool, int size, float[] query, int[] nonzero, int count, float[] out) {
    int blocked = size - size % BLOCK;
    for (int r = 0; r < blocked; r += BLOCK) {
      FloatVector s0 = FloatVector.zero(SPECIES);
      FloatVector s1 = s0;
      FloatVector s2 = s0;
      FloatVector s3 = s0;
      for (int i = 0; i < count; i++) {
        int c = nonzero[i];
        FloatVector q = FloatVector.broadcast(SPECIES, query[c]);
        int at = c * size + r;
        s0 = FloatVector.fromArray(SPECIES, pool, at).fma(q, s0);
        s1 = FloatVector.fromArray(SPECIES, pool, at + LANES).fma(q, s1);
        s2 = FloatVector.fromArray(SPECIES, pool, at + 2 * LANES).fma(q, s2);
        s3 = FloatVector.fromArray(SPECIES, pool, at + 3 * LANES).fma(q, s3);
      }
      s0.intoArray(out, r);
      s1.intoArray(out, r + LANES);
      s2.intoArray(out, r + 2 * LANES);
      s3.intoArray(out, r + 3 * LANES);
    }
    PoolProduct.scalarSums(pool, size, query, nonzero, count, out, blocked);
  }

  /** See {@link PoolProduct#blockMaxima}; the last block, when partial, one value at a time. */
  static void blockMaxima(float[] values, int size, int block, float[] out) {
    int b = 0;
    for (; (b + 1) * block <= size; b++) {
      FloatVector max = FloatVector.fromArray(SPECIES, values, b * block);
      for (int i = b * block + LANES; i < (b + 1) * block; i += LANES) {
        max = max.max(FloatVector.fromArray(SPECIES, values, i));
      }
      out[b] = max.reduceLanes(VectorOperators.MAX);
    }
    PoolProduct.scalarBlockMaxima(values, size, block, out, b);
  }

  /** See {@link PoolProduct#firstAbove}. */
  static int firstAbove(float[] values, int from, int size, float bound) {
    int i = from;
    for (int blocked = size - LANES; i <= blocked; i += LANES) {
      if (FloatVector.fromArray(SPECIES, values, i).compare(VectorOperators.GT, bound).anyTrue()) {
        // found in this block: the lane one value at a time, not by the mask's firstTrue, which the 1M-row guard's
        // profile showed compiled without its intrinsic (6.5% of the scoring pass's samples, for ten calls a row)
        while (!(values[i] > bound)) {
          i++;
        }
        return i;
      }
    }
    return PoolProduct.scalarFirstAbove(values, i, size, bound);
  }
}
