package io.poisonguard.detect;

import java.io.Serializable;

/**
 * Turns a detector's raw score into a tail probability (a p-value): the chance that a clean row scores at least
 * as high. Scores live on very different scales (a z-score, a path-length ratio); p-values make them comparable
 * and let the ensemble hold a false-positive rate.
 *
 * <p>The null distribution is estimated from approximate quantiles of the scores on the fit data, on the
 * {@code ln(1 + score)} scale so heavy-tailed scores get a Pareto-like rather than an exponential tail. Quantiles
 * are trusted up to a level {@code L}: up to it the survival function is interpolated between quantiles; beyond
 * it, an exponential tail on the log scale continues the survival line through the median and {@code q_L}.
 * <ul>
 *   <li>Fitted on a trusted sample of n rows, {@code L} leaves at least 20 rows above it (L = 1 − 20/n, at most
 *       0.999): the empirical tail is used as far as it is supported.
 *   <li>Fitted on the batch itself, which may hold poison, {@code L} = 0.9: only the bulk is trusted, so a
 *       contamination below about 10% cannot move the yardstick that judges it.
 * </ul>
 *
 * @param levels probabilities of the quantile grid, increasing, ending at L
 * @param quantiles quantiles of ln(1 + score) at those levels
 * @param tailScale scale β of the exponential tail beyond the last quantile
 */
public record TailCalibrator(double[] levels, double[] quantiles, double tailScale) implements Serializable {
  /** Grid of probabilities considered, before cutting at L. */
  static final double[] GRID = {0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999};
  /** Bulk level when calibrating on the batch itself. */
  static final double SELF_LEVEL = 0.9;
  /** Rows a trusted sample must leave above the last trusted level. */
  static final int TAIL_ROWS = 20;

  /** The grid levels usable for {@code n} rows, trusted or not. */
  static double[] levelsFor(long n, boolean trusted) {
    double top = trusted ? Math.max(SELF_LEVEL, Math.min(0.999, 1 - TAIL_ROWS / (double) Math.max(1, n)))
        : SELF_LEVEL;
    return java.util.Arrays.stream(GRID).filter(p -> p <= top + 1e-12).toArray();
  }

  /** A calibrator from the quantiles of ln(1 + score) at {@code levels}. */
  static TailCalibrator fromQuantiles(double[] levels, double[] quantiles) {
    int last = levels.length - 1;
    int median = java.util.Arrays.binarySearch(levels, 0.5);
    double spread = quantiles[last] - quantiles[median];
    double decay = Math.log((1 - levels[median]) / (1 - levels[last]));
    // a flat bulk (many identical scores) leaves no spread: any score above it is then far in the tail
    double beta = spread > 0 ? spread / decay : 1e-6;
    return new TailCalibrator(levels, quantiles, beta);
  }

  /** The tail probability of {@code score} (≥ 0); NaN scores get 1 (no evidence). */
  public double pValue(double score) {
    if (Double.isNaN(score)) {
      return 1.0;
    }
    double t = Math.log1p(Math.max(0, score));
    int last = levels.length - 1;
    if (t >= quantiles[last]) {
      return (1 - levels[last]) * Math.exp(-(t - quantiles[last]) / tailScale);
    }
    for (int i = last - 1; i >= 0; i--) {
      if (t >= quantiles[i]) {
        double span = quantiles[i + 1] - quantiles[i];
        double w = span > 0 ? (t - quantiles[i]) / span : 1;
        return 1 - (levels[i] + w * (levels[i + 1] - levels[i]));
      }
    }
    return 1.0;
  }
}
