package io.poisonguard.detect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The pool's near-copy strike-out against a brute-force comparison of keys. */
class NeighbourPoolTest {
  @Test
  void strikesOutExactlyThePoolRowsThatShareAKeyInAnyTable() {
    Random random = new Random(11);
    int rows = 3_000;
    int tables = 3;
    long[][] keys = new long[rows][tables];
    for (long[] row : keys) {
      for (int t = 0; t < tables; t++) {
        // few distinct keys, so groups of many rows; 0 and negative keys included
        row[t] = random.nextInt(400) - 50;
      }
    }
    double[][] pool = new double[rows][2];
    NeighbourPool search = new NeighbourPool(pool, keys);
    for (int query = 0; query < 2_000; query++) {
      long[] self = new long[tables];
      for (int t = 0; t < tables; t++) {
        // about half the queries' keys are in the pool, the rest not
        self[t] = random.nextInt(800) - 50;
      }
      float[] closeness = Arrays.copyOf(search.closeness(new double[] {0.5, -1}, self), rows);
      float[] expected = Arrays.copyOf(search.closeness(new double[] {0.5, -1}, null), rows);
      for (int j = 0; j < rows; j++) {
        for (int t = 0; t < tables; t++) {
          if (keys[j][t] == self[t]) {
            expected[j] = Float.NEGATIVE_INFINITY;
          }
        }
      }
      assertArrayEquals(expected, closeness, "query " + query);
    }
  }

  @Test
  void anEmptyPoolHasNothingToStrikeOut() {
    NeighbourPool search = new NeighbourPool(new double[0][], new long[0][]);
    assertEquals(0, search.size());
    // nothing to compute and no key to strike out: the call returns (the thread's buffer, of which 0 entries count)
    assertDoesNotThrow(() -> search.closeness(new double[] {1, 2}, new long[] {7}));
  }
}
