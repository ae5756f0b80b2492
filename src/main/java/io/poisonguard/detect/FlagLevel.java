package io.poisonguard.detect;

import io.poisonguard.config.Contamination;
import io.poisonguard.spark.ColumnQuantiles;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.QuantileSketch;
import java.util.List;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * The level a row's combined p-value is compared with to flag it: the target false-positive rate, or, with a
 * contamination setting ({@link Contamination}), the combined p-value under which that share of the batch's rows
 * falls, whichever is larger, so a contamination setting only ever widens the flag. The share is fixed by the
 * pipeline or estimated from the batch. Rows tied at that p-value are flagged together or not at all, whichever
 * comes nearer the share.
 *
 * <p>The estimate is a lower confidence bound on the share of rows that are not clean, from the excess of small
 * combined p-values over the uniform share clean rows would give (Meinshausen and Rice, 2006): at every level t of a
 * grid, clean rows put at most a share t of the batch below t, so the share of rows below t less t, less z standard
 * errors of a binomial share, over 1 − t, bounds the poisoned share from below; the estimate is the largest such
 * bound, z being the normal quantile of 5% spread over the grid's levels (Bonferroni), so a clean batch yields 0
 * with 95% confidence. It only counts poison that some detector tells from clean rows; poison the detectors cannot
 * see adds nothing to it, which is why it is a bound and not a guess of the share the red team injected.
 */
final class FlagLevel {
  /** Levels at which the excess of small p-values is measured. */
  static final double[] GRID = {1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5};
  /** Chance that a clean batch's estimate is above 0. */
  static final double ERROR = 0.05;
  /** Sketch accuracy: exact below some 20,000 rows, rank error about 0.015% beyond. */
  private static final int SKETCH_K = 20_000;

  private FlagLevel() {}

  /**
   * The level and the share behind it.
   *
   * @param level the combined p-value at or under which a row is flagged
   * @param share the contamination share the level was set for (the fixed share, or the estimate); 0 without a
   *     contamination setting
   */
  record Level(double level, double share) {}

  /**
   * The level for {@code verdicts}: rows with {@code _pg_poison_score} (1 − combined p) as the detection stage gives
   * them at the target false-positive rate, a sample of the batch to be flagged. One pass.
   */
  static Level of(Dataset<Row> verdicts, Contamination contamination, double targetFpr) {
    if (contamination.mode() == Contamination.Mode.OFF) {
      return new Level(targetFpr, 0);
    }
    QuantileSketch combined = ColumnQuantiles.sketch(verdicts,
        List.of(functions.lit(1.0).minus(Columns.col(Columns.POISON_SCORE))), SKETCH_K)[0];
    if (combined.isEmpty()) {
      return new Level(targetFpr, 0);
    }
    double share = contamination.mode() == Contamination.Mode.FIXED ? contamination.share()
        : Math.min(Contamination.MAX_SHARE, lowerBound(combined.ranks(GRID), combined.count()));
    if (share <= 0) {
      return new Level(targetFpr, 0);
    }
    // Rows tied at the quantile (a count-valued score calibrates to a handful of p-values) are flagged together or
    // not at all: the level flags the nearer of the shares with and without them.
    double quantile = combined.quantiles(new double[] {share})[0];
    double below = Math.nextDown(quantile);
    double[] flagged = combined.ranks(new double[] {below, quantile});
    double level = flagged[1] - share > share - flagged[0] ? below : quantile;
    return new Level(Math.max(targetFpr, level), share);
  }

  /**
   * The lower confidence bound on the share of rows that are not clean.
   *
   * @param below per level of {@link #GRID}, the share of rows whose combined p-value is at or below it
   * @param rows rows counted
   */
  static double lowerBound(double[] below, long rows) {
    double z = new NormalDistribution().inverseCumulativeProbability(1 - ERROR / GRID.length);
    double bound = 0;
    for (int i = 0; i < GRID.length; i++) {
      double t = GRID[i];
      double excess = below[i] - t - z * Math.sqrt(t * (1 - t) / rows);
      bound = Math.max(bound, excess / (1 - t));
    }
    return bound;
  }
}
