package io.poisonguard.train;

import java.io.Serializable;

/**
 * A gradient attack on a {@link LinearSoftmax}: FGSM (one step of size ε) or PGD (projected steps of 2.5ε/steps),
 * under an L∞ or L2 budget ε in robustly scaled units. Starts from the clean point, so it is deterministic; each step
 * follows the input gradient of the cross-entropy of the true class, so a model whose probabilities saturate hands
 * the attacker a zero gradient (the masking the evaluation's transfer attack exposes).
 *
 * @param norm {@code linf} or {@code l2}
 * @param epsilon budget
 * @param steps 1 for FGSM, more for PGD
 */
public record Perturbation(String norm, double epsilon, int steps) implements Serializable {
  public Perturbation {
    if (!norm.equals("linf") && !norm.equals("l2")) {
      throw new IllegalArgumentException("norm must be linf or l2, got " + norm);
    }
  }

  /** FGSM or PGD as a pipeline file names it. */
  public static Perturbation of(String attack, String norm, double epsilon, int steps) {
    return new Perturbation(norm, epsilon, attack.equals("fgsm") ? 1 : steps);
  }

  /** The perturbed copy of {@code x} (class {@code label}) against {@code model}. */
  public double[] apply(LinearSoftmax model, double[] x, int label) {
    double stepSize = steps == 1 ? epsilon : 2.5 * epsilon / steps;
    double[] current = x.clone();
    for (int s = 0; s < steps; s++) {
      double[] g = model.inputGradient(current, label);
      if (norm.equals("linf")) {
        for (int i = 0; i < current.length; i++) {
          current[i] = clamp(current[i] + stepSize * Math.signum(g[i]), x[i] - epsilon, x[i] + epsilon);
        }
      } else {
        double length = norm(g);
        if (length == 0) {
          break;
        }
        for (int i = 0; i < current.length; i++) {
          current[i] += stepSize * g[i] / length;
        }
        projectL2(current, x);
      }
    }
    return current;
  }

  private void projectL2(double[] current, double[] origin) {
    double sq = 0;
    for (int i = 0; i < current.length; i++) {
      double delta = current[i] - origin[i];
      sq += delta * delta;
    }
    double length = Math.sqrt(sq);
    if (length > epsilon) {
      double shrink = epsilon / length;
      for (int i = 0; i < current.length; i++) {
        current[i] = origin[i] + (current[i] - origin[i]) * shrink;
      }
    }
  }

  private static double norm(double[] v) {
    double s = 0;
    for (double x : v) {
      s += x * x;
    }
    return Math.sqrt(s);
  }

  private static double clamp(double v, double lo, double hi) {
    return Math.max(lo, Math.min(hi, v));
  }
}
