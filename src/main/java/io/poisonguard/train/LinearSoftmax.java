package io.poisonguard.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * A multinomial logistic (softmax) model on prepared features: class {@code k} scores {@code w_k·x + b_k}. Its
 * gradients with respect to the input are exact, which makes white-box FGSM/PGD attacks on it exact too, and its
 * worst-case loss under an L∞ perturbation budget has a closed form ({@link #robustLoss}).
 */
public final class LinearSoftmax implements Classifier {
  /** Trainer name of PoisonGuard's own linear trainer. */
  public static final String TRAINER = "linear";
  private static final long serialVersionUID = 1L;

  /** [class][feature], the intercept last. */
  private final double[][] weights;

  /** A model with the given weights, [class][features + 1] with the intercept last. */
  public LinearSoftmax(double[][] weights) {
    if (weights.length < 2) {
      throw new IllegalArgumentException("a classifier needs at least two classes, got " + weights.length);
    }
    this.weights = copy(weights);
  }

  @Override
  public int numClasses() {
    return weights.length;
  }

  @Override
  public int numFeatures() {
    return weights[0].length - 1;
  }

  @Override
  public String trainer() {
    return TRAINER;
  }

  /** A copy of the weights, [class][features + 1] with the intercept last. */
  public double[][] weights() {
    return copy(weights);
  }

  /** The class scores {@code w_k·x + b_k}. */
  public double[] logits(double[] x) {
    int d = numFeatures();
    double[] z = new double[weights.length];
    for (int k = 0; k < weights.length; k++) {
      double[] w = weights[k];
      double s = w[d];
      for (int i = 0; i < d; i++) {
        s += w[i] * x[i];
      }
      z[k] = s;
    }
    return z;
  }

  @Override
  public double[] probabilities(double[] x) {
    return softmax(logits(x));
  }

  /**
   * Gradient of the cross-entropy loss of class {@code label} with respect to the input: {@code Σ_k (p_k − 1[k=y])
   * w_k}. Computed from floating-point probabilities, so it vanishes where they saturate; that is the gradient an
   * attacker who trusts the model's own outputs sees.
   */
  public double[] inputGradient(double[] x, int label) {
    double[] p = probabilities(x);
    int d = numFeatures();
    double[] g = new double[d];
    for (int k = 0; k < weights.length; k++) {
      double c = p[k] - (k == label ? 1 : 0);
      if (c != 0) {
        for (int i = 0; i < d; i++) {
          g[i] += c * weights[k][i];
        }
      }
    }
    return g;
  }

  /**
   * The cross-entropy of class {@code label} after the worst perturbation of {@code x} within an L∞ ball of radius
   * {@code epsilon}, bounded per rival class: {@code log Σ_k exp(z_k − z_y + ε‖w_k − w_y‖₁)}. Each rival's score gap
   * is maximised on its own; for two classes that is the exact worst case, for more it is an upper bound (the
   * rivals cannot all be served by one perturbation).
   */
  public double robustLoss(double[] x, int label, double epsilon) {
    double[] z = logits(x);
    int d = numFeatures();
    double[] a = new double[z.length];
    for (int k = 0; k < z.length; k++) {
      a[k] = k == label ? 0 : z[k] - z[label] + epsilon * l1Distance(weights[k], weights[label], d);
    }
    return logSumExp(a);
  }

  @Override
  public void save(String dir) throws IOException {
    ObjectNode fields = Classifiers.fields().put("classes", numClasses()).put("features", numFeatures());
    ArrayNode rows = fields.putArray("weights");
    for (double[] w : weights) {
      ArrayNode row = rows.addArray();
      for (double v : w) {
        row.add(v);
      }
    }
    Classifiers.writeDescriptor(dir, TRAINER, fields);
  }

  /** Reads a model written by {@link #save}. */
  static LinearSoftmax load(String dir, JsonNode descriptor) throws IOException {
    JsonNode rows = descriptor.path("weights");
    if (!rows.isArray() || rows.size() < 2) {
      throw new IOException(dir + "/" + Classifiers.DESCRIPTOR + ": 'weights' must list one row per class");
    }
    double[][] w = new double[rows.size()][];
    for (int k = 0; k < w.length; k++) {
      JsonNode row = rows.get(k);
      w[k] = new double[row.size()];
      for (int i = 0; i < w[k].length; i++) {
        w[k][i] = row.get(i).asDouble();
      }
    }
    return new LinearSoftmax(w);
  }

  /** {@code ‖a − b‖₁} over the first {@code d} entries (the intercept excluded). */
  static double l1Distance(double[] a, double[] b, int d) {
    double s = 0;
    for (int i = 0; i < d; i++) {
      s += Math.abs(a[i] - b[i]);
    }
    return s;
  }

  /** {@code log Σ exp(a)}, shifted by the maximum so that it never overflows. */
  static double logSumExp(double[] a) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : a) {
      max = Math.max(max, v);
    }
    double s = 0;
    for (double v : a) {
      s += Math.exp(v - max);
    }
    return max + Math.log(s);
  }

  /** Softmax of {@code z}, shifted by the maximum. */
  static double[] softmax(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double[] p = new double[z.length];
    double s = 0;
    for (int k = 0; k < z.length; k++) {
      p[k] = Math.exp(z[k] - max);
      s += p[k];
    }
    for (int k = 0; k < z.length; k++) {
      p[k] /= s;
    }
    return p;
  }

  private static double[][] copy(double[][] w) {
    double[][] c = new double[w.length][];
    for (int k = 0; k < w.length; k++) {
      c[k] = w[k].clone();
    }
    return c;
  }
}
