package io.poisonguard.detect;

import java.util.Arrays;
import java.util.Random;

/**
 * A minimum-covariance-determinant style location and scatter of a small in-memory sample (driver side): the
 * mean and covariance of the {@code support} share of rows that fit each other best, found by concentration
 * steps from several seeded starts. Rows outside that core (poison among them) do not shape the estimate.
 *
 * @param mean location
 * @param factor lower Cholesky factor of the regularised scatter, row-major
 */
record RobustCovariance(double[] mean, double[] factor) implements java.io.Serializable {
  private static final int STARTS = 6;
  private static final int MAX_STEPS = 30;
  /** Share of each feature's whole-sample variance added to the diagonal: sparse features stay invertible. */
  private static final double SHRINK = 0.05;
  /** Variance, relative to 1 + the squared mean, under which a feature counts as constant on the sample. */
  private static final double CONSTANT = 1e-12;

  /**
   * Fits on {@code rows} (each of length d; at least d + 2 of them).
   *
   * @param support share of rows in the core, in (0.5, 1]
   */
  static RobustCovariance fit(double[][] rows, double support, long seed) {
    int n = rows.length;
    int d = rows[0].length;
    int h = Math.max(d + 1, (int) Math.ceil(support * n));
    double[] whole = mean(rows, all(n));
    double[] floor = diagonal(covariance(rows, all(n), whole), d);
    for (int i = 0; i < d; i++) {
      // A constant feature's variance comes out as rounding noise (about (n·ε·value)²), not always as 0; as a floor
      // it would make any other value of the feature look 10^13 standard deviations away.
      if (floor[i] <= CONSTANT * (1 + whole[i] * whole[i])) {
        floor[i] = 0;
      }
    }
    Random random = new Random(seed);
    double bestDet = Double.POSITIVE_INFINITY;
    int[] best = null;
    for (int start = 0; start < STARTS; start++) {
      int[] subset = start == 0 ? all(n) : randomSubset(n, d + 1, random);
      double previous = Double.POSITIVE_INFINITY;
      for (int step = 0; step < MAX_STEPS; step++) {
        double[] mu = mean(rows, subset);
        double[] l = LogisticFits.cholesky(regularised(covariance(rows, subset, mu), floor, d), d);
        double det = logDeterminant(l, d);
        subset = closest(rows, mu, l, h);
        if (det >= previous - 1e-10) {
          break;
        }
        previous = det;
      }
      double[] mu = mean(rows, subset);
      double det = logDeterminant(LogisticFits.cholesky(regularised(covariance(rows, subset, mu), floor, d), d), d);
      if (det < bestDet) {
        bestDet = det;
        best = subset;
      }
    }
    double[] mu = mean(rows, best);
    double[] scatter = regularised(covariance(rows, best, mu), floor, d);
    // Consistency: a core of the h closest rows has a shrunken covariance; rescale so the median squared
    // distance of all rows matches the chi-square median with d degrees of freedom.
    double[] l = LogisticFits.cholesky(scatter, d);
    double[] distances = new double[n];
    for (int i = 0; i < n; i++) {
      distances[i] = squaredDistance(rows[i], mu, l);
    }
    Arrays.sort(distances);
    double median = distances[n / 2];
    double chiSquareMedian = d * Math.pow(1 - 2.0 / (9 * d), 3);
    double scale = median > 0 ? median / chiSquareMedian : 1;
    for (int i = 0; i < scatter.length; i++) {
      scatter[i] *= scale;
    }
    return new RobustCovariance(mu, LogisticFits.cholesky(scatter, d));
  }

  /** (x − μ)ᵀ Σ⁻¹ (x − μ) through the Cholesky factor. */
  static double squaredDistance(double[] x, double[] mu, double[] factor) {
    double[] u = LogisticFits.forward(factor, centred(x, mu), mu.length);
    return LogisticFits.dot(u, u);
  }

  /** Each feature's term (x − μ)ᵢ · [Σ⁻¹(x − μ)]ᵢ of the squared distance; the terms sum to it. */
  static double[] contributions(double[] x, double[] mu, double[] factor) {
    double[] c = centred(x, mu);
    double[] solved = LogisticFits.solve(factor, c, mu.length);
    for (int i = 0; i < c.length; i++) {
      c[i] *= solved[i];
    }
    return c;
  }

  private static double[] centred(double[] x, double[] mu) {
    double[] c = new double[mu.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = x[i] - mu[i];
    }
    return c;
  }

  private static int[] closest(double[][] rows, double[] mu, double[] l, int h) {
    Integer[] order = new Integer[rows.length];
    double[] distance = new double[rows.length];
    for (int i = 0; i < rows.length; i++) {
      order[i] = i;
      distance[i] = squaredDistance(rows[i], mu, l);
    }
    // Ties broken by index: the result does not depend on the sort's stability.
    Arrays.sort(order, (a, b) -> distance[a] != distance[b] ? Double.compare(distance[a], distance[b]) : a - b);
    int[] subset = new int[h];
    for (int i = 0; i < h; i++) {
      subset[i] = order[i];
    }
    return subset;
  }

  private static double[] mean(double[][] rows, int[] subset) {
    double[] m = new double[rows[0].length];
    for (int i : subset) {
      for (int j = 0; j < m.length; j++) {
        m[j] += rows[i][j];
      }
    }
    for (int j = 0; j < m.length; j++) {
      m[j] /= subset.length;
    }
    return m;
  }

  private static double[] covariance(double[][] rows, int[] subset, double[] mu) {
    int d = mu.length;
    double[] c = new double[d * d];
    for (int i : subset) {
      for (int a = 0; a < d; a++) {
        double da = rows[i][a] - mu[a];
        for (int b = 0; b <= a; b++) {
          c[a * d + b] += da * (rows[i][b] - mu[b]);
        }
      }
    }
    for (int a = 0; a < d; a++) {
      for (int b = 0; b <= a; b++) {
        c[a * d + b] /= Math.max(subset.length - 1, 1);
        c[b * d + a] = c[a * d + b];
      }
    }
    return c;
  }

  private static double[] diagonal(double[] c, int d) {
    double[] diag = new double[d];
    for (int i = 0; i < d; i++) {
      diag[i] = c[i * d + i];
    }
    return diag;
  }

  private static double[] regularised(double[] c, double[] floor, int d) {
    double[] r = c.clone();
    for (int i = 0; i < d; i++) {
      // A feature constant on the whole sample gets unit variance: it then adds nothing but its own deviation.
      r[i * d + i] += floor[i] > 0 ? SHRINK * floor[i] : 1.0;
    }
    return r;
  }

  private static double logDeterminant(double[] l, int d) {
    double s = 0;
    for (int i = 0; i < d; i++) {
      s += 2 * Math.log(l[i * d + i]);
    }
    return s;
  }

  private static int[] all(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    return a;
  }

  private static int[] randomSubset(int n, int k, Random random) {
    int[] perm = all(n);
    for (int i = 0; i < k; i++) {
      int j = i + random.nextInt(n - i);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    return Arrays.copyOf(perm, k);
  }
}
