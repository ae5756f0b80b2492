package io.poisonguard.redteam;

/**
 * Small dense binary logistic regression for driver-side attack optimisation (a sample of at most a few thousand
 * rows and a few hundred features). Weights carry the intercept last; the ridge penalty skips it.
 */
final class Logistic {
  private Logistic() {}

  static double sigmoid(double z) {
    return 1 / (1 + Math.exp(-z));
  }

  /** w·x plus the intercept. */
  static double margin(double[] w, double[] x) {
    double z = w[x.length];
    for (int j = 0; j < x.length; j++) {
      z += w[j] * x[j];
    }
    return z;
  }

  /** Newton's method from {@code start} for {@code iterations} steps on the ridge-penalised mean loss. */
  static double[] fit(double[][] x, double[] y, double[] start, double ridge, int iterations) {
    double[] w = start.clone();
    for (int it = 0; it < iterations; it++) {
      double[] step = solve(hessian(x, w, ridge), gradient(x, y, w, ridge));
      for (int a = 0; a < w.length; a++) {
        w[a] -= step[a];
      }
    }
    return w;
  }

  /** Gradient of the mean loss (plus ridge on the weights), intercept last. */
  static double[] gradient(double[][] x, double[] y, double[] w, double ridge) {
    int d = x[0].length;
    double[] g = new double[d + 1];
    for (int i = 0; i < x.length; i++) {
      double r = sigmoid(margin(w, x[i])) - y[i];
      for (int j = 0; j < d; j++) {
        g[j] += r * x[i][j] / x.length;
      }
      g[d] += r / x.length;
    }
    for (int j = 0; j < d; j++) {
      g[j] += ridge * w[j];
    }
    return g;
  }

  /** Hessian of the mean loss (plus ridge), intercept last; a tiny jitter keeps the intercept's row solvable. */
  static double[][] hessian(double[][] x, double[] w, double ridge) {
    int d = x[0].length;
    double[][] h = new double[d + 1][d + 1];
    for (double[] row : x) {
      double p = sigmoid(margin(w, row));
      double s = p * (1 - p) / x.length;
      for (int a = 0; a <= d; a++) {
        double xa = a < d ? row[a] : 1;
        for (int c = a; c <= d; c++) {
          h[a][c] += s * xa * (c < d ? row[c] : 1);
        }
      }
    }
    for (int a = 0; a <= d; a++) {
      for (int c = 0; c < a; c++) {
        h[a][c] = h[c][a];
      }
      h[a][a] += a < d ? ridge : 1e-9;
    }
    return h;
  }

  /** Solves a·x = b by Gaussian elimination with partial pivoting. */
  static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    double[][] m = new double[n][];
    double[] r = b.clone();
    for (int i = 0; i < n; i++) {
      m[i] = a[i].clone();
    }
    for (int col = 0; col < n; col++) {
      int pivot = col;
      for (int i = col + 1; i < n; i++) {
        if (Math.abs(m[i][col]) > Math.abs(m[pivot][col])) {
          pivot = i;
        }
      }
      double[] t = m[col];
      m[col] = m[pivot];
      m[pivot] = t;
      double tr = r[col];
      r[col] = r[pivot];
      r[pivot] = tr;
      for (int i = col + 1; i < n; i++) {
        double f = m[i][col] / m[col][col];
        for (int c = col; c < n; c++) {
          m[i][c] -= f * m[col][c];
        }
        r[i] -= f * r[col];
      }
    }
    double[] x = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double s = r[i];
      for (int c = i + 1; c < n; c++) {
        s -= m[i][c] * x[c];
      }
      x[i] = s / m[i][i];
    }
    return x;
  }
}
