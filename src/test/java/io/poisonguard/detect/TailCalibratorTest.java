package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.SharedSpark;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Known answers for the tail calibration: scores laid out on an exact quantile grid ({@code u = (i + 0.5) / n}), so
 * every quantile the calibrator reads is known in closed form.
 */
@ExtendWith(SharedSpark.class)
class TailCalibratorTest {
  private static final int N = 200_000;

  /** Scores {@code quantile(u)} for u on an even grid of N points. */
  private static Dataset<Row> grid(SparkSession spark, Column quantile) {
    return spark.range(N).select(col("id").plus(0.5).divide(N).as("u")).select(quantile.as("s"));
  }

  private static TailCalibrator fit(Dataset<Row> scores, TailCalibrator.Reference reference) {
    return TailCalibrator.fit(scores, List.of("s"), List.of(false), reference).get(0);
  }

  @Test
  void trustedExponentialScoresGetTheirTrueTailProbabilityAlsoBeyondTheLastQuantile(SparkSession spark) {
    // Exp(1): P(S > s) = exp(-s); 9 and 12 lie beyond the 0.999 quantile (6.9), so they are extrapolated.
    TailCalibrator c = fit(grid(spark, log(lit(1).minus(col("u"))).multiply(-1)), TailCalibrator.Reference.TRUSTED);
    // Inside the grid, linear interpolation between levels is off by a few per cent. Beyond it, the quantiles'
    // relative error (1e-4 of rank, a tenth of the mass above q999) carries into the extrapolation.
    for (double s : new double[] {0.5, 2, 5}) {
      assertEquals(Math.exp(-s), c.pValue(s), 0.1 * Math.exp(-s), "p at " + s);
    }
    assertEquals(Math.exp(-9), c.pValue(9), 0.25 * Math.exp(-9), "p at 9");
    assertTrue(c.pValue(12) < c.pValue(9) / 10, "the tail keeps decaying beyond the grid");
    assertEquals(1.0, c.pValue(Double.NaN));
  }

  @Test
  void batchTailIgnoresPoisonAboveTheNinetiethPercentile(SparkSession spark) {
    // 5% of the rows sit at 40: far out, but inside the batch the calibrator is fitted on.
    Column exponential = log(lit(1).minus(col("u").divide(0.95))).multiply(-1);
    TailCalibrator c = fit(grid(spark, when(col("u").lt(0.95), exponential).otherwise(lit(40.0))),
        TailCalibrator.Reference.BATCH);
    assertTrue(c.pValue(40) < 1e-9, "poison p " + c.pValue(40));
    // The clean rows' own tail (share 0.95·exp(-s) of the batch), seen through a bulk that is 95% clean:
    // never below it (no clean row made to look extreme), and conservative by at most a factor 5.
    for (double s : new double[] {3, 5}) {
      double p = c.pValue(s);
      assertTrue(p >= 0.95 * Math.exp(-s) && p < 5 * Math.exp(-s), "p at " + s + " = " + p);
    }
  }

  @Test
  void batchTailDecaysAtTheSlowerOfTheMedianAndUpperBulkRates(SparkSession spark) {
    // Piecewise-linear quantiles: q50 = 1, q80 = 1.2, q90 = 2. From the median the decay scale would be
    // (2 - 1) / ln 5 = 0.62; the upper bulk says (2 - 1.2) / ln 2 = 1.15, a heavier tail, and wins.
    Column u = col("u");
    Column quantile = when(u.leq(0.5), u.multiply(2))
        .when(u.leq(0.8), lit(1).plus(u.minus(0.5).divide(0.3).multiply(0.2)))
        .when(u.leq(0.9), lit(1.2).plus(u.minus(0.8).divide(0.1).multiply(0.8)))
        .otherwise(lit(2).plus(u.minus(0.9).multiply(5)));
    TailCalibrator c = fit(grid(spark, quantile), TailCalibrator.Reference.BATCH);
    double scale = 0.8 / Math.log(2);
    assertEquals(0.1 * Math.exp(-1 / scale), c.pValue(3), 2e-3);
    assertEquals(0.5, c.pValue(1), 1e-3);
  }

  @Test
  void aReferenceWithoutFiniteScoresGivesNoEvidence(SparkSession spark) {
    TailCalibrator c = fit(grid(spark, lit(Double.NaN)), TailCalibrator.Reference.TRUSTED);
    assertFalse(c.informative());
    assertEquals(1.0, c.pValue(1e6));
    assertTrue(fit(grid(spark, col("u")), TailCalibrator.Reference.TRUSTED).informative());
  }
}
