package io.poisonguard.detect;

import java.io.Serializable;

/**
 * The confident-learning score shared by the label-aware detectors (Northcutt, Jiang &amp; Chuang 2021): given
 * a row's held-out class probabilities p (model probabilities, or neighbour shares) and per-class thresholds
 * t_c = the mean self-confidence of rows labelled c, the row's score is
 *
 * <pre>  score = max_{j ≠ y} (logit p_j − logit t_j) + (logit t_y − logit p_y)</pre>
 *
 * how far the strongest other class rises above its own typical confidence plus how far the given class
 * falls below its own, in log-odds. It is increasing in every p_j (j ≠ y), decreasing in p_y, and positive
 * roughly where confident learning would count the row as a label issue. The thresholds make a class the
 * model is generally unsure about (a hard or small class) no more suspect than an easy one. Log-odds and
 * not plain differences: a probability margin saturates near 1, so a model that is 99.9% sure the label is
 * wrong would look like one that is 90% sure, and the calibrated tail could not tell them apart.
 * Probabilities are clipped to [1e-9, 1 − 1e-9], so the score stays within about ±83.
 *
 * @param thresholds t_c per class index
 * @param classNames names for the evidence, by class index
 */
record ConfidentMargin(double[] thresholds, String[] classNames) implements Serializable {
  /** Score and evidence of one row of class {@code given} (NaN = unknown: score NaN, evidence null). */
  RowScoringModel.Score score(double[] p, double given) {
    if (Double.isNaN(given) || given < 0 || given >= p.length) {
      return new RowScoringModel.Score(Double.NaN, null);
    }
    int y = (int) given;
    int best = -1;
    double bestMargin = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < p.length; j++) {
      if (j != y && logit(p[j]) - logit(thresholds[j]) > bestMargin) {
        bestMargin = logit(p[j]) - logit(thresholds[j]);
        best = j;
      }
    }
    if (best < 0) {
      // A single class: there is nothing to disagree with.
      return new RowScoringModel.Score(0.0, null);
    }
    int predicted = 0;
    for (int j = 1; j < p.length; j++) {
      if (p[j] > p[predicted]) {
        predicted = j;
      }
    }
    int top = predicted;
    return new RowScoringModel.Score(bestMargin + logit(thresholds[y]) - logit(p[y]), () -> "given=" + name(y)
        + ",predicted=" + name(top) + ",p=" + Evidence.fixed(p[top], 2));
  }

  private static double logit(double p) {
    double q = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
    return Math.log(q / (1 - q));
  }

  private String name(int c) {
    return classNames != null && c < classNames.length ? classNames[c] : Integer.toString(c);
  }

  /** Thresholds from per-class sums of self-confidence and counts; a class never seen gets 1/classes. */
  static double[] thresholds(double[] selfConfidenceSum, long[] count) {
    double[] t = new double[count.length];
    for (int c = 0; c < t.length; c++) {
      t[c] = count[c] > 0 ? selfConfidenceSum[c] / count[c] : 1.0 / t.length;
    }
    return t;
  }

  /**
   * {@link #thresholds}, but none below its class's share of the rows counted: for model probabilities, which, unlike
   * smoothed neighbour shares, can go to 0. Calibrated probabilities never need the floor (a class's mean
   * self-confidence E[p_c | y = c] = E[p_c²] / π_c is at least its share π_c); a model that gives a class's own rows
   * less than its base rate has learnt nothing of it (a class of a handful of rows, each held out of the fold models
   * that judge it), and a threshold near 0 would make every row's sliver of probability for that class a confident
   * vote: on a 4,143-row shuttle sample, a 2-row class's threshold of 7·10⁻¹⁴ gave clean rows of the largest class a
   * median score of 11.4, about that of the rows whose labels were moved. Smoothed shares are left alone: (count + 1) /
   * (k + classes) cannot reach a large class's share, and floored there the largest class of shuttle would be judged
   * against a threshold none of its rows can meet (knn_label's ROC-AUC on the benchmark's shuttle label flips fell from
   * 0.857 to 0.696).
   */
  static double[] thresholdsAtLeastShares(double[] selfConfidenceSum, long[] count) {
    double[] t = thresholds(selfConfidenceSum, count);
    long total = 0;
    for (long n : count) {
      total += n;
    }
    for (int c = 0; c < t.length; c++) {
      t[c] = count[c] > 0 ? Math.max(t[c], (double) count[c] / total) : t[c];
    }
    return t;
  }
}
