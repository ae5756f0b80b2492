package io.poisonguard.train;

import java.io.Serializable;

/**
 * The linear trainer's loss at fixed weights, summed row by row inside Spark tasks (or over an array): for target
 * distribution {@code t} (one-hot, smoothed, or a teacher's softened output) the loss is {@code Σ_k t_k ℓ_k}, where
 * {@code ℓ_k} is the cross-entropy of class k at temperature T, or its worst case under an L∞ budget ε (each rival
 * {@code j}'s score gap widened by {@code ε‖w_j − w_k‖₁}). With adversarial training each row's loss mixes the clean
 * point and its attacked copy; with trimming a row whose loss exceeds the previous pass's quantile adds no gradient.
 * One instance per pass, shipped to the tasks with the weights it evaluates.
 */
final class LinearObjective implements Serializable {
  /** Loss histogram: log10(loss) from −8 to 4 in steps of 0.05; trimming thresholds come from it. */
  static final int BINS = 240;
  private static final double LOG_MIN = -8;
  private static final double BIN_WIDTH = 0.05;

  private final LinearSoftmax model;
  private final double[][] w;
  private final int classes;
  private final int d;
  private final LinearSettings settings;
  private final LinearSoftmax teacher;
  private final double trimThreshold;
  /** ‖w_j − w_k‖₁ over features, for the worst-case loss. */
  private final double[][] pairL1;

  LinearObjective(double[][] weights, LinearSettings settings, LinearSoftmax teacher, double trimThreshold) {
    this.model = new LinearSoftmax(weights);
    this.w = weights;
    this.classes = weights.length;
    this.d = weights[0].length - 1;
    this.settings = settings;
    this.teacher = teacher;
    this.trimThreshold = trimThreshold;
    this.pairL1 = new double[classes][classes];
    if (settings.robustEpsilon() > 0) {
      for (int j = 0; j < classes; j++) {
        for (int k = 0; k < classes; k++) {
          pairL1[j][k] = LinearSoftmax.l1Distance(w[j], w[k], d);
        }
      }
    }
  }

  /** Sums of one pass: gradient of the summed data loss, loss, weights seen and kept, loss histogram. */
  static final class Sums implements Serializable {
    final double[] gradient;
    double loss;
    double weight;
    double keptWeight;
    final double[] histogram = new double[BINS];

    Sums(int size) {
      gradient = new double[size];
    }

    Sums merge(Sums other) {
      for (int i = 0; i < gradient.length; i++) {
        gradient[i] += other.gradient[i];
      }
      for (int i = 0; i < BINS; i++) {
        histogram[i] += other.histogram[i];
      }
      loss += other.loss;
      weight += other.weight;
      keptWeight += other.keptWeight;
      return this;
    }

    /** The loss below which all but {@code share} of the weight lies (upper edge of its histogram bin). */
    double quantileLoss(double share) {
      double target = (1 - share) * weight;
      double cumulative = 0;
      for (int b = 0; b < BINS; b++) {
        cumulative += histogram[b];
        if (cumulative >= target) {
          return Math.pow(10, LOG_MIN + (b + 1) * BIN_WIDTH);
        }
      }
      return Double.POSITIVE_INFINITY;
    }
  }

  Sums zero() {
    return new Sums(classes * (d + 1));
  }

  /** Adds one row's loss and (unless trimmed) gradient. */
  Sums add(Sums sums, TrainingRow row) {
    double[] target = target(row.x(), row.label());
    double[] g = new double[classes * (d + 1)];
    double loss;
    if (settings.adversarial() == null) {
      loss = pointLoss(row.x(), target, g, 1);
    } else {
      double mix = settings.adversarialMix();
      double[] attacked = settings.adversarial().apply(model, row.x(), row.label());
      loss = pointLoss(row.x(), target, g, 1 - mix) + pointLoss(attacked, target, g, mix);
    }
    sums.loss += row.weight() * loss;
    sums.weight += row.weight();
    sums.histogram[bin(loss)] += row.weight();
    if (loss <= trimThreshold) {
      sums.keptWeight += row.weight();
      for (int i = 0; i < g.length; i++) {
        sums.gradient[i] += row.weight() * g[i];
      }
    }
    return sums;
  }

  private double[] target(double[] x, int label) {
    double t = settings.temperature();
    if (teacher != null) {
      double[] z = teacher.logits(x);
      for (int k = 0; k < z.length; k++) {
        z[k] /= t;
      }
      return LinearSoftmax.softmax(z);
    }
    double[] target = new double[classes];
    double spread = settings.labelSmoothing() / classes;
    for (int k = 0; k < classes; k++) {
      target[k] = spread + (k == label ? 1 - settings.labelSmoothing() : 0);
    }
    return target;
  }

  /** Loss at point {@code x}; adds {@code scale} × its gradient with respect to the weights to {@code g}. */
  private double pointLoss(double[] x, double[] target, double[] g, double scale) {
    double t = settings.temperature();
    double eps = settings.robustEpsilon();
    double[] z = model.logits(x);
    if (eps == 0) {
      double[] a = new double[classes];
      double dot = 0;
      for (int k = 0; k < classes; k++) {
        a[k] = z[k] / t;
        dot += target[k] * a[k];
      }
      double[] p = LinearSoftmax.softmax(a);
      for (int j = 0; j < classes; j++) {
        addRow(g, j, x, scale * (p[j] - target[j]) / t, null, 0);
      }
      return LinearSoftmax.logSumExp(a) - dot;
    }
    double loss = 0;
    double[] a = new double[classes];
    for (int k = 0; k < classes; k++) {
      if (target[k] == 0) {
        continue;
      }
      for (int j = 0; j < classes; j++) {
        a[j] = j == k ? 0 : (z[j] - z[k] + eps * pairL1[j][k]) / t;
      }
      double[] q = LinearSoftmax.softmax(a);
      loss += target[k] * LinearSoftmax.logSumExp(a);
      for (int j = 0; j < classes; j++) {
        if (j != k) {
          double c = scale * target[k] * q[j] / t;
          addRow(g, j, x, c, w[k], eps);
          addRow(g, k, x, -c, w[j], -eps);
        }
      }
    }
    return loss;
  }

  /**
   * {@code g[j] += c · (x̃ + ε·sign(w_j − rival))}: the gradient of a score gap {@code z_j − z_rival + ε‖w_j −
   * rival‖₁} with respect to class j's weights (for the rival's own weights the caller passes −ε and flips c).
   */
  private void addRow(double[] g, int j, double[] x, double c, double[] rival, double eps) {
    if (c == 0) {
      return;
    }
    int base = j * (d + 1);
    for (int i = 0; i < d; i++) {
      double sign = rival == null ? 0 : Math.signum(w[j][i] - rival[i]);
      g[base + i] += c * (x[i] + eps * sign);
    }
    g[base + d] += c;
  }

  private static int bin(double loss) {
    if (!(loss > 0)) {
      return 0;
    }
    int b = (int) Math.floor((Math.log10(loss) - LOG_MIN) / BIN_WIDTH);
    return Math.max(0, Math.min(BINS - 1, b));
  }
}
