package io.poisonguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The neighbour search's product on spambase's rows (log-compressed, as the search takes them): the vector kernel
 * and the scalar loop give the same sums to the bit, and the sums are the dot products over the nonzero entries. The
 * top-k scan's skip finds the same first value above a bound on either kernel.
 */
class PoolProductTest {
  private static final int POOL = 3001;
  private static final int QUERIES = 400;

  /** Spambase's feature rows, each entry signed-log-compressed, in file order. */
  private static float[][] spambase() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("data/spambase.csv"));
    float[][] rows = new float[lines.size() - 1][];
    for (int r = 1; r < lines.size(); r++) {
      String[] cells = lines.get(r).split(",");
      float[] row = new float[cells.length - 1];
      for (int c = 0; c < row.length; c++) {
        double v = Double.parseDouble(cells[c]);
        row[c] = (float) (Math.signum(v) * Math.log1p(Math.abs(v)));
      }
      rows[r - 1] = row;
    }
    return rows;
  }

  @Test
  void theVectorKernelAndTheScalarLoopAgreeToTheBitAndSumTheNonzeroProducts() throws IOException {
    float[][] rows = spambase();
    int d = rows[0].length;
    // the first POOL rows, feature-major; an odd size leaves a tail beyond the vector blocks
    float[] pool = new float[POOL * d];
    for (int r = 0; r < POOL; r++) {
      for (int c = 0; c < d; c++) {
        pool[c * POOL + r] = rows[r][c];
      }
    }
    float[] vector = new float[POOL];
    float[] scalar = new float[POOL];
    int[] nonzero = new int[d];
    long entries = 0;
    long zeros = 0;
    for (int k = 0; k < QUERIES; k++) {
      float[] query = rows[POOL + k * 3];
      int count = 0;
      for (int c = 0; c < d; c++) {
        if (query[c] != 0f) {
          nonzero[count++] = c;
        }
      }
      entries += d;
      zeros += d - count;
      VectorPoolProduct.sums(pool, POOL, query, nonzero, count, vector);
      PoolProduct.scalarSums(pool, POOL, query, nonzero, count, scalar, 0);
      for (int r = 0; r < POOL; r++) {
        assertEquals(Float.floatToIntBits(scalar[r]), Float.floatToIntBits(vector[r]), "query " + k + ", row " + r);
        double exact = 0;
        for (int c = 0; c < d; c++) {
          exact += (double) pool[c * POOL + r] * query[c];
        }
        assertEquals(exact, scalar[r], 1e-5 * (1 + Math.abs(exact)), "query " + k + ", row " + r);
      }
    }
    assertTrue(zeros > entries / 2, "spambase rows are mostly zeros: " + zeros + " of " + entries);
  }

  @Test
  void bothKernelsSkipToTheSameFirstValueAboveTheBound() {
    // an odd length leaves a tail beyond the vector blocks; NaN and -infinity are never above any bound
    int size = 1001;
    float[] values = closenesses(size, 97, 11);
    float[] bounds = {Float.NEGATIVE_INFINITY, -1f, 0f, 1.5f, 2.5f, 3.5f, 100f, Float.POSITIVE_INFINITY};
    int checked = 0;
    for (float bound : bounds) {
      for (int from = 0; from <= size; from += 7) {
        int expected = from;
        while (expected < size && !(values[expected] > bound)) {
          expected++;
        }
        assertEquals(expected, PoolProduct.scalarFirstAbove(values, from, size, bound), "scalar, " + bound + " " + from);
        assertEquals(expected, VectorPoolProduct.firstAbove(values, from, size, bound), "vector, " + bound + " " + from);
        checked += expected < size ? 1 : 0;
      }
    }
    assertTrue(checked > 100, "most searches find a value: " + checked);
  }

  @Test
  void bothKernelsFindTheSameBlockMaxima() {
    // 1001 values: fifteen full blocks of 64 and a partial one; a NaN anywhere in a block makes its maximum NaN
    int size = 1001;
    float[] values = closenesses(size, 211, 13);
    java.util.Arrays.fill(values, 128, 192, Float.NEGATIVE_INFINITY); // block 2: all struck out
    int blocks = (size + 63) / 64;
    float[] scalar = new float[blocks];
    float[] vector = new float[blocks];
    PoolProduct.scalarBlockMaxima(values, size, 64, scalar, 0);
    VectorPoolProduct.blockMaxima(values, size, 64, vector);
    int nan = 0;
    for (int b = 0; b < blocks; b++) {
      float expected = Float.NEGATIVE_INFINITY;
      for (int i = b * 64; i < Math.min(size, b * 64 + 64); i++) {
        expected = Float.isNaN(values[i]) || Float.isNaN(expected) ? Float.NaN : Math.max(expected, values[i]);
      }
      assertEquals(expected, scalar[b], "scalar, block " + b);
      assertEquals(expected, vector[b], "vector, block " + b);
      nan += Float.isNaN(expected) ? 1 : 0;
    }
    assertEquals(Float.NEGATIVE_INFINITY, vector[2]);
    assertTrue(nan > 2 && nan < blocks - 2, "some blocks hold a NaN, most do not: " + nan);
  }

  /**
   * {@code size} seeded Gaussian closenesses, a NaN every {@code nanEvery} and −∞ every 89th, then seven more past
   * {@code size} that no kernel may read (one of them 100, above every other).
   */
  private static float[] closenesses(int size, int nanEvery, long seed) {
    float[] values = new float[size + 7];
    java.util.Random random = new java.util.Random(seed);
    for (int i = 0; i < values.length; i++) {
      values[i] = i % nanEvery == 5 ? Float.NaN : i % 89 == 3 ? Float.NEGATIVE_INFINITY : (float) random.nextGaussian();
    }
    values[size + 3] = 100f;
    return values;
  }
}
