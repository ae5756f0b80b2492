package io.poisonguard.detect;

import io.poisonguard.spark.OrderedAggregate;
import java.io.Serializable;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;

/**
 * Per-class mean and covariance of one or more per-row views (feature vectors, loss gradients, ...), all
 * summed in a single ordered aggregation ({@link io.poisonguard.spark.OrderedAggregate}, so the sums are the same
 * from run to run): partial sums of {@code views × classes × dim²} numbers reach the driver, at most
 * {@link LogisticFits#FAN_IN} at once, never a row.
 *
 * @param count [class] rows
 * @param mean [view][class][dim]
 * @param covariance [view][class][dim²], row-major, divided by the class count
 */
record ClassMoments(long[] count, double[][][] mean, double[][][] covariance) implements Serializable {
  /** How a row is seen: a vector of a fixed length per view, from its design vector and class index. */
  @FunctionalInterface
  interface View extends Serializable {
    double[] of(double[] x, int label);
  }

  /** The top eigenvector of a symmetric positive semi-definite matrix and its eigenvalue. */
  record Eigen(double[] vector, double value) implements Serializable {}

  private static final int MAX_ITERATIONS = 1000;
  private static final double TOLERANCE = 1e-12;

  /**
   * Sums the moments of every view in one pass.
   *
   * @param rows the examples (only {@code x} and {@code label} are read)
   * @param views the views, each of length {@code dims[v]}
   */
  static ClassMoments of(JavaRDD<LogisticFits.Example> rows, int classes, List<View> views, int[] dims) {
    Sums zero = new Sums(classes, dims);
    Sums sums = OrderedAggregate.of(rows, zero, (acc, ex) -> {
      int c = ex.label();
      acc.count[c]++;
      for (int v = 0; v < dims.length; v++) {
        double[] r = views.get(v).of(ex.x(), c);
        double[] s = acc.sum[v][c];
        double[] q = acc.outer[v][c];
        int d = dims[v];
        for (int i = 0; i < d; i++) {
          s[i] += r[i];
          // Upper triangle only; mirrored once on the driver.
          for (int j = i; j < d; j++) {
            q[i * d + j] += r[i] * r[j];
          }
        }
      }
      return acc;
    }, Sums::merge, LogisticFits.FAN_IN);
    double[][][] mean = new double[dims.length][classes][];
    double[][][] covariance = new double[dims.length][classes][];
    for (int v = 0; v < dims.length; v++) {
      int d = dims[v];
      for (int c = 0; c < classes; c++) {
        double n = Math.max(sums.count[c], 1);
        double[] m = new double[d];
        for (int i = 0; i < d; i++) {
          m[i] = sums.sum[v][c][i] / n;
        }
        double[] cov = new double[d * d];
        for (int i = 0; i < d; i++) {
          for (int j = i; j < d; j++) {
            cov[i * d + j] = sums.outer[v][c][i * d + j] / n - m[i] * m[j];
            cov[j * d + i] = cov[i * d + j];
          }
        }
        mean[v][c] = m;
        covariance[v][c] = cov;
      }
    }
    return new ClassMoments(sums.count, mean, covariance);
  }

  /** Square roots of a covariance matrix's diagonal; 0 for a constant coordinate. */
  static double[] standardDeviations(double[] covariance, int d) {
    double[] sd = new double[d];
    for (int i = 0; i < d; i++) {
      sd[i] = Math.sqrt(Math.max(covariance[i * d + i], 0));
    }
    return sd;
  }

  /** The correlation matrix of a covariance matrix; a constant coordinate gets a zero row and column. */
  static double[] correlation(double[] covariance, double[] sd) {
    int d = sd.length;
    double[] r = new double[d * d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        r[i * d + j] = sd[i] > 0 && sd[j] > 0 ? covariance[i * d + j] / (sd[i] * sd[j]) : 0;
      }
    }
    return r;
  }

  /**
   * Top eigenvector by power iteration from a seeded start; deterministic for a given seed. A zero matrix
   * gives eigenvalue 0.
   */
  static Eigen top(double[] matrix, int d, long seed) {
    Random random = new Random(seed);
    double[] v = new double[d];
    for (int i = 0; i < d; i++) {
      v[i] = random.nextGaussian();
    }
    normalise(v);
    double value = 0;
    for (int iter = 0; iter < MAX_ITERATIONS; iter++) {
      double[] next = new double[d];
      for (int i = 0; i < d; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) {
          s += matrix[i * d + j] * v[j];
        }
        next[i] = s;
      }
      double norm = normalise(next);
      if (norm == 0) {
        return new Eigen(v, 0);
      }
      double change = 0;
      for (int i = 0; i < d; i++) {
        change = Math.max(change, Math.abs(next[i] - v[i]));
      }
      v = next;
      value = norm;
      if (change < TOLERANCE) {
        break;
      }
    }
    return new Eigen(v, value);
  }

  private static double normalise(double[] v) {
    double norm = Math.sqrt(LogisticFits.dot(v, v));
    if (norm > 0) {
      for (int i = 0; i < v.length; i++) {
        v[i] /= norm;
      }
    }
    return norm;
  }

  /** The aggregation buffer. */
  private static final class Sums implements Serializable {
    final long[] count;
    final double[][][] sum;
    final double[][][] outer;

    Sums(int classes, int[] dims) {
      count = new long[classes];
      sum = new double[dims.length][classes][];
      outer = new double[dims.length][classes][];
      for (int v = 0; v < dims.length; v++) {
        for (int c = 0; c < classes; c++) {
          sum[v][c] = new double[dims[v]];
          outer[v][c] = new double[dims[v] * dims[v]];
        }
      }
    }

    static Sums merge(Sums a, Sums b) {
      for (int c = 0; c < a.count.length; c++) {
        a.count[c] += b.count[c];
      }
      for (int v = 0; v < a.sum.length; v++) {
        for (int c = 0; c < a.count.length; c++) {
          add(a.sum[v][c], b.sum[v][c]);
          add(a.outer[v][c], b.outer[v][c]);
        }
      }
      return a;
    }

    private static void add(double[] into, double[] from) {
      for (int i = 0; i < into.length; i++) {
        into[i] += from[i];
      }
    }
  }
}
