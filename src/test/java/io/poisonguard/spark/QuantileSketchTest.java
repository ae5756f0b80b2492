package io.poisonguard.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class QuantileSketchTest {
  private static final double[] LEVELS = {0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999};
  private static final int N = 1_000_000;

  /** 0..N-1 in an order: ranks are the values themselves, so a quantile's rank error is |q − p·N| / N. */
  private static double[] permutation(String order, long seed) {
    double[] values = new double[N];
    for (int i = 0; i < N; i++) {
      values[i] = order.equals("descending") ? N - 1 - i : i;
    }
    if (order.equals("shuffled")) {
      Random random = new Random(seed);
      for (int i = N - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        double t = values[i];
        values[i] = values[j];
        values[j] = t;
      }
    }
    return values;
  }

  private static double worstRankError(QuantileSketch sketch) {
    double[] q = sketch.quantiles(LEVELS);
    double worst = 0;
    for (int j = 0; j < LEVELS.length; j++) {
      worst = Math.max(worst, Math.abs(q[j] + 1 - LEVELS[j] * N) / N);
    }
    return worst;
  }

  @Test
  void rankErrorStaysWithinTwoOverKWhateverTheOrder() {
    for (String order : new String[] {"ascending", "descending", "shuffled"}) {
      QuantileSketch sketch = new QuantileSketch();
      for (double v : permutation(order, 3)) {
        sketch.update(v);
      }
      double error = worstRankError(sketch);
      assertTrue(error < 2.0 / QuantileSketch.K, order + ": rank error " + error);
      assertEquals(N, sketch.count());
      assertArrayEquals(new double[] {0, N - 1}, sketch.quantiles(new double[] {0, 1}));
    }
  }

  @Test
  void mergedPartsAreAsAccurateAndReproducible() {
    double[] values = permutation("shuffled", 5);
    QuantileSketch[] runs = new QuantileSketch[2];
    for (int run = 0; run < 2; run++) {
      QuantileSketch total = new QuantileSketch();
      for (int part = 0; part < 13; part++) {
        QuantileSketch piece = new QuantileSketch();
        for (int i = part; i < N; i += 13) {
          piece.update(values[i]);
        }
        total.merge(piece);
      }
      runs[run] = total;
    }
    assertTrue(worstRankError(runs[0]) < 2.0 / QuantileSketch.K, "rank error " + worstRankError(runs[0]));
    assertArrayEquals(runs[0].quantiles(LEVELS), runs[1].quantiles(LEVELS));
  }

  @Test
  void exactUntilTheFirstLevelFillsAndIgnoresNaN() {
    QuantileSketch sketch = new QuantileSketch(100);
    assertNull(sketch.quantiles(LEVELS));
    for (int i = 10; i >= 1; i--) {
      sketch.update(i);
      sketch.update(Double.NaN);
    }
    assertEquals(10, sketch.count());
    // the smallest value whose rank reaches p·10
    assertArrayEquals(new double[] {1, 1, 3, 5, 10}, sketch.quantiles(new double[] {0, 0.1, 0.25, 0.5, 1}));
  }

  @Test
  void finerSketchesAreMoreAccurate() {
    QuantileSketch fine = new QuantileSketch(20_000);
    for (double v : permutation("shuffled", 11)) {
      fine.update(v);
    }
    assertTrue(worstRankError(fine) < 2.0 / 20_000, "rank error " + worstRankError(fine));
  }

  @Test
  void ranksInvertTheQuantilesWithinTheSameError() {
    QuantileSketch sketch = new QuantileSketch();
    for (double v : permutation("shuffled", 13)) {
      sketch.update(v);
    }
    double[] edges = new double[LEVELS.length];
    for (int j = 0; j < LEVELS.length; j++) {
      // values 0..N-1: exactly LEVELS[j]·N of them are at or below LEVELS[j]·N − 1
      edges[j] = LEVELS[j] * N - 1;
    }
    double[] ranks = sketch.ranks(edges);
    for (int j = 0; j < LEVELS.length; j++) {
      assertEquals(LEVELS[j], ranks[j], 2.0 / QuantileSketch.K, "rank at " + edges[j]);
    }
    assertArrayEquals(new double[] {0, 1}, sketch.ranks(new double[] {-1, N}));

    QuantileSketch small = new QuantileSketch(100);
    assertNull(small.ranks(new double[] {1}));
    for (int i = 1; i <= 10; i++) {
      small.update(i);
    }
    assertArrayEquals(new double[] {0, 0.3, 0.3, 1}, small.ranks(new double[] {0.5, 3, 3.5, 10}));
  }

  @Test
  void aWeightedValueCountsAsThatManyCopies() {
    // Exact while nothing is compacted: the quantiles of the weighted sketch are those of the values repeated.
    long[] weights = {1, 6, 3, 1_000, 0};
    QuantileSketch weighted = new QuantileSketch(100);
    QuantileSketch repeated = new QuantileSketch(100_000);
    for (int v = 0; v < weights.length; v++) {
      weighted.update(v, weights[v]);
      for (long c = 0; c < weights[v]; c++) {
        repeated.update(v);
      }
    }
    weighted.update(Double.NaN, 5);
    double[] levels = {0, 0.0005, 0.001, 0.005, 0.009, 0.01, 0.5, 1};
    assertEquals(1_010, weighted.count());
    assertArrayEquals(repeated.quantiles(levels), weighted.quantiles(levels));
    assertArrayEquals(new double[] {0, 0, 1, 1, 2, 3, 3, 3}, weighted.quantiles(levels));

    // A value weighing most of the data beside a million distinct ones: within the usual rank error.
    QuantileSketch mixed = new QuantileSketch();
    mixed.update(-1, 3L * N);
    for (double v : permutation("shuffled", 17)) {
      mixed.update(v);
    }
    assertEquals(4L * N, mixed.count());
    double[] q = mixed.quantiles(new double[] {0.7, 0.8, 0.9});
    assertEquals(-1, q[0]);
    // 3N values of −1 below 0..N−1: the quantile at p is the value ranked p·4N − 3N among 0..N−1
    assertEquals(0.2, (q[1] + 1) / N, 2.0 * 4 / QuantileSketch.K, "rank of the 0.8 quantile");
    assertEquals(0.6, (q[2] + 1) / N, 2.0 * 4 / QuantileSketch.K, "rank of the 0.9 quantile");
  }

  /**
   * Distances from a centre off the middle (0..N-1 shuffled, centre 0.3·N): the exact distance quantile at p is the
   * distance whose count of values at or within it reaches p·N, found here by sorting the N distances.
   */
  @Test
  void distanceQuantilesAndMeanFollowTheDistancesOfTheAddedValues() {
    double[] values = permutation("shuffled", 9);
    QuantileSketch sketch = new QuantileSketch();
    for (double v : values) {
      sketch.update(v);
    }
    double centre = 0.3 * N + 0.5;
    double[] distances = new double[N];
    double sum = 0;
    for (int i = 0; i < N; i++) {
      distances[i] = Math.abs(values[i] - centre);
      sum += distances[i];
    }
    java.util.Arrays.sort(distances);
    QuantileSketch.Sorted sorted = sketch.sorted();
    double[] q = sorted.distanceQuantiles(centre, LEVELS);
    for (int j = 0; j < LEVELS.length; j++) {
      // the rank of the returned distance among the exact ones
      int rank = java.util.Arrays.binarySearch(distances, q[j]);
      assertTrue(rank >= 0, "a retained value's distance is an added value's: " + q[j]);
      double error = Math.abs(rank + 1 - LEVELS[j] * N) / N;
      assertTrue(error < 4.0 / QuantileSketch.K, "p " + LEVELS[j] + ": rank error " + error);
    }
    assertEquals(distances[N - 1], sorted.distanceQuantiles(centre, new double[] {1})[0]);
    assertEquals(sum / N, sorted.meanDistance(centre), 1e-3 * sum / N);
    assertArrayEquals(sketch.quantiles(LEVELS), sorted.quantiles(LEVELS));
    assertNull(new QuantileSketch().sorted());
  }

  @Test
  void distancesOfAnExactSketchAreExact() {
    QuantileSketch sketch = new QuantileSketch();
    for (double v : new double[] {5, 1, 9, 2, 8, 7}) {
      sketch.update(v);
    }
    // distances from 6: 1 (5, 7), 2 (8), 3 (9), 4 (2), 5 (1)
    assertArrayEquals(new double[] {1, 1, 2, 3, 5}, sketch.sorted().distanceQuantiles(6,
        new double[] {0, 1.0 / 3, 0.5, 2.0 / 3, 1}));
    assertEquals(16.0 / 6, sketch.sorted().meanDistance(6), 1e-12);
  }
}
