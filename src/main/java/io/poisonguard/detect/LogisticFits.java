package io.poisonguard.detect;

import io.poisonguard.spark.OrderedAggregate;
import java.io.Serializable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;

/**
 * Ridge-penalised logistic models for the label-aware detectors, fitted by Newton's method with one
 * ordered aggregation ({@link OrderedAggregate}: the sums, and so the models, are the same from run to run) per
 * iteration for <em>all</em> models at once: the k fold models of
 * {@link LabelConsistencyDetector} cost the same number of Spark jobs as the single model of
 * {@link InfluenceDetector}. Newton needs the Hessian anyway (the influence detector's H), converges in about
 * ten passes where L-BFGS needs dozens, and the d × d systems are solved on the driver by Cholesky.
 *
 * <p>Classes: two classes are one model (class 1 against class 0); more are one-vs-rest models, one per
 * class, whose sigmoids are normalised to probabilities. Inputs are the prepared features compressed by
 * {@code sign(x)·log1p(|x|)} plus an unpenalised intercept: robustly scaled zero-inflated features reach
 * values in the hundreds, and a logistic fit on them is steered by a handful of extreme rows.
 *
 * <p>Objective per model: {@code Σ_rows logloss + (ridge · n / 2)·|w|²} (n = rows in that model's fit set),
 * i.e. {@code ridge} is per row like MLlib's {@code regParam}. Cost per pass: models × (d+1)² per row and an
 * aggregation buffer of models × (d+1)² doubles per task.
 */
final class LogisticFits {
  /**
   * Most examples kept between passes as Java objects (some 90 MB of them); more are kept serialized. As objects
   * they take several times their bytes on the heap, more than Spark's size estimate counts, and at 4M rows a
   * 1 GiB local-mode JVM ran out of heap reading such a block back from disk. A fit sample is smaller (at most about
   * {@code fit_rows}, 100,000 by default), and read back from serialized blocks every Newton pass spent most of its
   * time in Java deserialization: the 18 passes of the 1M-row guard's fit took 6.2 s (8.7 CPU-seconds) serialized
   * and 2.0 s (1.8) as objects, from two event-logged runs.
   */
  static final long OBJECT_ROWS = 250_000;

  /** How {@code rows} examples are kept between passes (see {@link #OBJECT_ROWS}). */
  static StorageLevel storageFor(long rows) {
    return rows <= OBJECT_ROWS ? StorageLevel.MEMORY_AND_DISK() : StorageLevel.MEMORY_AND_DISK_SER();
  }
  /**
   * Most partial sums of a pass merged in one place ({@link OrderedAggregate}): one is folds × class models × d²
   * doubles (1.2 MB for 5 folds of Letter's 26 one-vs-rest models), so the driver holds at most 16 of them, about
   * as many as {@code treeAggregate}'s two levels gave it from 256 partitions.
   */
  static final int FAN_IN = 16;

  private static final int MAX_ITER = 30;
  private static final double TOLERANCE = 1e-7;
  /** Longest Newton step (Euclidean) taken at once; keeps the first steps from zero inside the sigmoid's range. */
  private static final double MAX_STEP = 20;

  private LogisticFits() {}

  /**
   * A row as the fits see it.
   *
   * @param x compressed features with the intercept 1 appended
   * @param label class index
   * @param exclude the one model group (fold) this row stays out of, −1 for none
   * @param weight the row's weight in the loss (1 unless copies of it share the weight of one row)
   */
  record Example(double[] x, int label, int exclude, double weight) implements Serializable {}

  /**
   * Fitted coefficients and, at the final coefficients, each model's data-loss gradient and Hessian.
   *
   * @param weights [group][class model][d+1]
   * @param gradient [group][class model][d+1], of the summed log-loss without the penalty
   * @param hessian [group][class model][(d+1)²], of the penalised objective
   * @param rows [group] rows in the group's fit set
   */
  record Fit(double[][][] weights, double[][][] gradient, double[][][] hessian, long[] rows) {}

  /** Number of binary models for {@code classes} classes: one for two classes, else one per class. */
  static int classModels(int classes) {
    return classes <= 2 ? 1 : classes;
  }

  /** The model input for a prepared vector: compressed entries and the intercept. */
  static double[] design(Vector features) {
    return design(features.toArray());
  }

  /** {@link #design(Vector)} of the vector with these values. */
  static double[] design(double[] values) {
    int d = values.length;
    double[] x = new double[d + 1];
    for (int i = 0; i < d; i++) {
      double v = values[i];
      // A zero (either sign) compresses to itself; skipping the logarithm there matters on sparse rows, whose
      // entries are mostly zeros (two thirds of the 1M-row scale data's).
      x[i] = v == 0 ? v : Math.signum(v) * Math.log1p(Math.abs(v));
    }
    x[d] = 1.0;
    return x;
  }

  /**
   * A 64-bit hash of a prepared row (every feature value and the label) under a seed. Folds and self-matches
   * are keyed on it, so the same row maps to the same fold in fit and in transform, on any partitioning, and
   * dense and sparse forms of one vector agree.
   */
  static long rowHash(Vector features, double label, long seed) {
    long h = mix(seed ^ 0x9E3779B97F4A7C15L);
    for (int i = 0; i < features.size(); i++) {
      // +0.0 so that −0.0 and 0.0 (equal values) hash alike.
      h = mix(h ^ Double.doubleToLongBits(features.apply(i) + 0.0));
    }
    return mix(h ^ Double.doubleToLongBits(label + 0.0));
  }

  /** SplitMix64's finaliser: every input bit affects every output bit. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Class names from the class-index column's nominal attribute (set by {@link FeaturePreparerModel}), else
   * null when the column carries none.
   */
  static String[] classNames(Dataset<?> dataset, String labelCol) {
    Attribute attribute = Attribute.fromStructField(dataset.schema().apply(labelCol));
    if (attribute instanceof NominalAttribute nominal && nominal.values().isDefined()) {
      return nominal.values().get();
    }
    return null;
  }

  /** Sigmoid, written so neither branch overflows. */
  static double sigmoid(double z) {
    if (z >= 0) {
      return 1 / (1 + Math.exp(-z));
    }
    double e = Math.exp(z);
    return e / (1 + e);
  }

  /** Class probabilities of one row under one group's class models (one-vs-rest sigmoids normalised). */
  static double[] probabilities(double[][] models, double[] x, int classes) {
    double[] p = new double[classes];
    if (classes == 1) {
      // a batch with one class has nothing to disagree with
      p[0] = 1;
      return p;
    }
    if (models.length == 1) {
      p[1] = sigmoid(dot(models[0], x));
      p[0] = 1 - p[1];
      return p;
    }
    double total = 0;
    for (int c = 0; c < classes; c++) {
      p[c] = sigmoid(dot(models[c], x));
      total += p[c];
    }
    for (int c = 0; c < classes; c++) {
      p[c] = total > 0 ? p[c] / total : 1.0 / classes;
    }
    return p;
  }

  /** Target of class model {@code m} for a row of class {@code label}. */
  static double target(int models, int m, int label) {
    return models == 1 ? (label == 1 ? 1 : 0) : (label == m ? 1 : 0);
  }

  /**
   * Fits {@code groups × classModels(classes)} ridge logistic models by Newton's method. Group g's models see
   * every row whose {@code exclude != g}.
   *
   * @param rows the examples (cache them: one pass per iteration)
   * @param groups model groups (folds; 1 for a single model)
   * @param classes number of classes
   * @param dim length of {@link Example#x()} (features + intercept)
   * @param ridge L2 penalty per unit of row weight on the non-intercept coefficients
   */
  static Fit fit(JavaRDD<Example> rows, int groups, int classes, int dim, double ridge) {
    int models = classModels(classes);
    double[][][] w = new double[groups][models][dim];
    Stats stats = pass(rows, w, classes, dim);
    for (int iter = 0; iter < MAX_ITER; iter++) {
      double largest = 0;
      for (int g = 0; g < groups; g++) {
        double lambda = ridge * stats.weight[g];
        for (int m = 0; m < models; m++) {
          double[] h = penalisedHessian(stats.hessian[g][m], lambda, dim);
          double[] step = solve(cholesky(h, dim), penalisedGradient(stats.gradient[g][m], w[g][m], lambda), dim);
          double norm = Math.sqrt(dot(step, step));
          double shrink = norm > MAX_STEP ? MAX_STEP / norm : 1;
          for (int i = 0; i < dim; i++) {
            w[g][m][i] -= shrink * step[i];
          }
          largest = Math.max(largest, shrink * norm / (1 + Math.sqrt(dot(w[g][m], w[g][m]))));
        }
      }
      stats = pass(rows, w, classes, dim);
      if (largest < TOLERANCE) {
        break;
      }
    }
    double[][][] hessian = new double[groups][models][];
    for (int g = 0; g < groups; g++) {
      for (int m = 0; m < models; m++) {
        hessian[g][m] = penalisedHessian(stats.hessian[g][m], ridge * stats.weight[g], dim);
      }
    }
    return new Fit(w, stats.gradient, hessian, stats.rows);
  }

  /** Sums over the rows at the given coefficients: per group the row count, per model gradient and Hessian. */
  private static Stats pass(JavaRDD<Example> rows, double[][][] w, int classes, int dim) {
    int groups = w.length;
    int models = w[0].length;
    Stats zero = new Stats(groups, models, dim);
    return OrderedAggregate.of(rows, zero, (acc, ex) -> {
      for (int g = 0; g < groups; g++) {
        if (ex.exclude() == g) {
          continue;
        }
        acc.rows[g]++;
        acc.weight[g] += ex.weight();
        for (int m = 0; m < models; m++) {
          double p = sigmoid(dot(w[g][m], ex.x()));
          double r = ex.weight() * (p - target(models, m, ex.label()));
          double v = ex.weight() * p * (1 - p);
          double[] grad = acc.gradient[g][m];
          double[] hess = acc.hessian[g][m];
          double[] x = ex.x();
          for (int i = 0; i < dim; i++) {
            grad[i] += r * x[i];
            double vx = v * x[i];
            int row = i * dim;
            // Lower triangle only; mirrored once on the driver.
            for (int j = 0; j <= i; j++) {
              hess[row + j] += vx * x[j];
            }
          }
        }
      }
      return acc;
    }, Stats::merge, FAN_IN);
  }

  /** The penalised Hessian, full and symmetric, from the summed lower triangle. */
  private static double[] penalisedHessian(double[] lower, double lambda, int dim) {
    double[] h = new double[dim * dim];
    for (int i = 0; i < dim; i++) {
      for (int j = 0; j <= i; j++) {
        h[i * dim + j] = lower[i * dim + j];
        h[j * dim + i] = lower[i * dim + j];
      }
    }
    // The intercept (last entry) is not penalised.
    for (int i = 0; i < dim - 1; i++) {
      h[i * dim + i] += lambda;
    }
    // A tiny jitter keeps Cholesky defined when a class is absent from a fold (zero curvature everywhere).
    h[(dim - 1) * dim + dim - 1] += 1e-9;
    return h;
  }

  /** Gradient of the penalised objective (the intercept, last, is not penalised). */
  private static double[] penalisedGradient(double[] gradient, double[] w, double lambda) {
    double[] g = gradient.clone();
    for (int i = 0; i < g.length - 1; i++) {
      g[i] += lambda * w[i];
    }
    return g;
  }

  /** Lower Cholesky factor L of a symmetric positive-definite matrix (row-major), A = L·Lᵀ. */
  static double[] cholesky(double[] a, int n) {
    double[] l = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double s = a[i * n + j];
        for (int k = 0; k < j; k++) {
          s -= l[i * n + k] * l[j * n + k];
        }
        if (i == j) {
          l[i * n + i] = Math.sqrt(Math.max(s, 1e-300));
        } else {
          l[i * n + j] = s / l[j * n + j];
        }
      }
    }
    return l;
  }

  /** Solves L·y = b (forward substitution). */
  static double[] forward(double[] l, double[] b, int n) {
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      double s = b[i];
      for (int k = 0; k < i; k++) {
        s -= l[i * n + k] * y[k];
      }
      y[i] = s / l[i * n + i];
    }
    return y;
  }

  /** Solves (L·Lᵀ)·x = b. */
  static double[] solve(double[] l, double[] b, int n) {
    double[] y = forward(l, b, n);
    double[] x = new double[n];
    for (int i = n - 1; i >= 0; i--) {
      double s = y[i];
      for (int k = i + 1; k < n; k++) {
        s -= l[k * n + i] * x[k];
      }
      x[i] = s / l[i * n + i];
    }
    return x;
  }

  static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** The aggregation buffer of one pass. */
  private static final class Stats implements Serializable {
    final long[] rows;
    final double[] weight;
    final double[][][] gradient;
    final double[][][] hessian;

    Stats(int groups, int models, int dim) {
      rows = new long[groups];
      weight = new double[groups];
      gradient = new double[groups][models][dim];
      hessian = new double[groups][models][dim * dim];
    }

    static Stats merge(Stats a, Stats b) {
      for (int g = 0; g < a.rows.length; g++) {
        a.rows[g] += b.rows[g];
        a.weight[g] += b.weight[g];
        for (int m = 0; m < a.gradient[g].length; m++) {
          add(a.gradient[g][m], b.gradient[g][m]);
          add(a.hessian[g][m], b.hessian[g][m]);
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
