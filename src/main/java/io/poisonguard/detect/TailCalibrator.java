package io.poisonguard.detect;

import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.when;

import io.poisonguard.spark.ColumnQuantiles;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.QuantileSketch;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;

/**
 * Turns a detector's raw score into a tail probability: the share of reference rows expected to score at
 * least as high. The reference distribution is a grid of approximate quantiles ({@link ColumnQuantiles}, one
 * distributed pass for all detectors), linearly interpolated, with an exponential tail beyond the last
 * trusted level.
 *
 * <ul>
 *   <li><b>Trusted reference</b> ({@link Reference#TRUSTED}): the data is believed clean, so the empirical
 *       grid is used up to the 0.999 quantile; beyond it the tail decays exponentially at the rate seen
 *       between the 0.99 and 0.999 quantiles. An empirical p-value alone cannot go below 0.001, yet with
 *       several detectors and a 1% target the corrected level is below that.</li>
 *   <li><b>Batch as its own reference</b> ({@link Reference#BATCH}): the batch may hold up to ~20% poison,
 *       which occupies its upper tail. Only the bulk up to the 0.9 quantile is trusted; the tail beyond is
 *       an exponential anchored at q90 whose decay is the slower of two fits: between the median and q90
 *       (50% of rows above the one, 10% above the other), and between q80 and q90. Poison above q90 then
 *       cannot stretch the yardstick it is measured with, and a heavy clean tail, which shows in the upper
 *       bulk before the median-to-q90 spread notices it, is not called extreme. Measured with
 *       {@code bench/detection} (40 dataset × attack rows): the largest false-positive rate of the ensemble
 *       flag fell from 3.1% to 2.1% (spambase, targeted flips, where the spectral score's tail is heavy), the mean
 *       flag recall from 0.319 to 0.309, the mean ROC-AUC stayed 0.901.</li>
 * </ul>
 * Unbounded scores (distances) are calibrated as {@code log1p(score)}: their clean tails are heavy
 * (polynomial), and an exponential fitted on the raw scale would call ordinary far-but-clean rows extreme;
 * on the log scale a polynomial tail becomes exponential, which is what the extrapolation assumes.
 * A NaN score has p = 1 (no evidence), and so has every score of a detector that had no finite score on the
 * reference (see {@link #informative()}).
 *
 * <p>A score with a point mass (a count that is zero on most rows, say) has a flat bulk: every level up to the
 * top is tied, and the bulk says nothing about how fast the tail falls. Such a score is calibrated in two
 * parts: the share of rows above the tie, times the tail probability among those rows, itself calibrated as
 * above (a second pass over the rows above the tie). Only when no row is above the tie is any larger score
 * maximally significant.
 */
public final class TailCalibrator implements Serializable {
  /** What the calibration data is. */
  public enum Reference {
    /** Trusted reference data (last accepted or curated). */
    TRUSTED,
    /** The batch under inspection itself, possibly contaminated. */
    BATCH
  }

  private static final double[] TRUSTED_LEVELS =
      {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999};
  private static final double[] BATCH_LEVELS = {0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  /** Levels from which the tail's decay is fitted to the top level; the slowest decay is kept. */
  private static final double[] TRUSTED_RATE_FROM = {0.99};
  private static final double[] BATCH_RATE_FROM = {0.5, 0.8};
  /**
   * Sketch accuracy: rank error about 0.015%, well inside the gap between the trusted grid's top levels
   * (0.995, 0.999); a few hundred KiB per score column.
   */
  private static final int SKETCH_K = 20_000;

  private final boolean logScale;
  private final double[] levels;
  private final double[] quantiles;
  private final double tailRate;
  /** Share of rows above a flat bulk, with {@link #beyond}; 0 when the bulk is not flat. */
  private final double shareBeyond;
  /** Calibration among the rows above a flat bulk, or null. */
  private final TailCalibrator beyond;

  private TailCalibrator(boolean logScale, double[] levels, double[] quantiles, double tailRate,
      double shareBeyond, TailCalibrator beyond) {
    this.logScale = logScale;
    this.levels = levels;
    this.quantiles = quantiles;
    this.tailRate = tailRate;
    this.shareBeyond = shareBeyond;
    this.beyond = beyond;
  }

  /**
   * Fits one calibrator per score column in one pass (and one more for the scores with a flat bulk).
   *
   * @param scored rows with the score columns (cache it if it is expensive)
   * @param scoreCols the raw score columns
   * @param logScale per column, whether to calibrate {@code log1p(score)} (unbounded scores)
   * @param reference what {@code scored} is
   */
  public static List<TailCalibrator> fit(Dataset<?> scored, List<String> scoreCols, List<Boolean> logScale,
      Reference reference) {
    return fit(scored, scoreCols, null, logScale, reference);
  }

  /**
   * As {@link #fit(Dataset, List, List, Reference)}, each row of {@code scored} standing for {@code weightCol}
   * rows of the reference: for a score distribution given as distinct scores with their number of rows
   * ({@link DetectorModel#countedScores}).
   *
   * @param weightCol the (integral) column of each row's weight, or null for one per row
   */
  public static List<TailCalibrator> fit(Dataset<?> scored, List<String> scoreCols, String weightCol,
      List<Boolean> logScale, Reference reference) {
    return fitColumns(scored, scoreCols.stream().map(Columns::col).toList(),
        weightCol == null ? null : Columns.col(weightCol), logScale, reference).stream()
        .map(Fitted::calibrator).toList();
  }

  /** A calibrator and the number of (non-NaN) scores it was fitted on. */
  private record Fitted(TailCalibrator calibrator, long count) {}

  private static List<Fitted> fitColumns(Dataset<?> scored, List<Column> scores, Column weight,
      List<Boolean> logScale, Reference reference) {
    double[] levels = reference == Reference.TRUSTED ? TRUSTED_LEVELS : BATCH_LEVELS;
    QuantileSketch[] sketches = ColumnQuantiles.sketch(scored, scores, weight, SKETCH_K);
    int top = levels.length - 1;
    double[] rateFrom = reference == Reference.TRUSTED ? TRUSTED_RATE_FROM : BATCH_RATE_FROM;
    int inner = indexOf(levels, rateFrom[0]);
    double[][] quantiles = new double[scores.size()][];
    // the scores whose bulk is flat up to the top level, and only their values above it
    List<Integer> flat = new ArrayList<>();
    List<Column> above = new ArrayList<>();
    for (int c = 0; c < scores.size(); c++) {
      double[] raw = sketches[c].quantiles(levels);
      if (raw == null) {
        continue;
      }
      double[] q = new double[levels.length];
      for (int i = 0; i < q.length; i++) {
        q[i] = logScale.get(c) ? Math.log1p(Math.max(0, raw[i])) : raw[i];
      }
      quantiles[c] = q;
      if (q[inner] == q[top]) {
        flat.add(c);
        above.add(when(scores.get(c).gt(raw[top]).and(not(isnan(scores.get(c)))), scores.get(c)));
      }
    }
    List<Fitted> beyond = flat.isEmpty() ? List.of()
        : fitColumns(scored, above, weight, flat.stream().map(logScale::get).toList(), reference);
    List<Fitted> out = new ArrayList<>();
    for (int c = 0; c < scores.size(); c++) {
      double[] q = quantiles[c];
      if (q == null) {
        // e.g. a per-class detector on a reference with fewer rows per class than it needs
        out.add(new Fitted(new TailCalibrator(logScale.get(c), levels, null, Double.NaN, 0, null), 0));
        continue;
      }
      int f = flat.indexOf(c);
      Fitted rest = f < 0 || beyond.get(f).count() == 0 ? null : beyond.get(f);
      // Tail anchored at the top level; its decay comes from the spread between an inner level and the top.
      double scale = 0;
      for (double from : rateFrom) {
        int i = indexOf(levels, from);
        scale = Math.max(scale, (q[top] - q[i]) / Math.log((1 - levels[i]) / (1 - levels[top])));
      }
      // A flat bulk with nothing above it means anything beyond is genuinely exceptional: a tiny but
      // positive decay scale keeps the formula defined and makes such scores maximally significant.
      double floor = 1e-9 * Math.max(1, Math.abs(q[top]));
      out.add(new Fitted(new TailCalibrator(logScale.get(c), levels, q, Math.max(scale, floor),
          rest == null ? 0 : (double) rest.count() / sketches[c].count(), rest == null ? null : rest.calibrator()),
          sketches[c].count()));
    }
    return out;
  }

  private static int indexOf(double[] levels, double level) {
    for (int i = 0; i < levels.length; i++) {
      if (levels[i] == level) {
        return i;
      }
    }
    throw new IllegalArgumentException("level " + level + " not in the grid");
  }

  /**
   * Whether the reference had any finite score to calibrate on. A calibrator without one gives every score
   * p = 1: the detector gives no evidence, rather than evidence measured against nothing.
   */
  public boolean informative() {
    return quantiles != null;
  }

  /** Tail probability of a raw score, in [0,1]. */
  public double pValue(double score) {
    if (Double.isNaN(score) || quantiles == null) {
      return 1.0;
    }
    double t = logScale ? Math.log1p(Math.max(0, score)) : score;
    int top = quantiles.length - 1;
    if (t > quantiles[top] && beyond != null) {
      return shareBeyond * beyond.pValue(score);
    }
    if (t > quantiles[top]) {
      return (1 - levels[top]) * Math.exp(-(t - quantiles[top]) / tailRate);
    }
    int i = 0;
    while (quantiles[i] < t) {
      i++;
    }
    if (i == 0 || quantiles[i] == t) {
      // On a tie take the lowest level holding that value: the larger, conservative tail probability.
      return 1 - levels[i];
    }
    double f = levels[i - 1]
        + (t - quantiles[i - 1]) / (quantiles[i] - quantiles[i - 1]) * (levels[i] - levels[i - 1]);
    return 1 - f;
  }
}
