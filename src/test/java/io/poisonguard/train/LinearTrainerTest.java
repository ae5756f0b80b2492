package io.poisonguard.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.evaluate.RobustnessEvaluator;
import io.poisonguard.evaluate.RobustnessReport;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The linear trainer's losses against brute force and finite differences, and its hardening on Spambase: the robust
 * loss and adversarial training hold up under white-box PGD where the plain model falls, distillation only hides the
 * gradient, and training is deterministic.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LinearTrainerTest {
  private static final double EPS = 0.5;
  private Prepared data;
  private LinearSoftmax surrogate;

  @BeforeAll
  void load(SparkSession spark) {
    data = Prepared.load(spark, "data/spambase.csv", "type", 4, 0, 1);
    surrogate = new LinearTrainer(LinearSettings.plain(150, 0.05, 1e-3), false)
        .fit(Prepared.load(spark, "data/spambase.csv", "type", 4, 2, 3).train, 2, data.numFeatures, 1);
  }

  @AfterAll
  void release() {
    data.release();
  }

  /** For two classes the closed form is the exact worst case: the loss at the worst corner of the L∞ ball. */
  @Test
  void robustLossIsTheBruteForceWorstCaseForTwoClasses() {
    SplittableRandom random = new SplittableRandom(3);
    for (int trial = 0; trial < 50; trial++) {
      int d = 1 + random.nextInt(7);
      LinearSoftmax model = new LinearSoftmax(randomWeights(random, 2, d));
      double[] x = randomVector(random, d);
      int label = random.nextInt(2);
      double eps = 0.05 + random.nextDouble();
      assertEquals(worstCorner(model, x, label, eps), model.robustLoss(x, label, eps), 1e-9);
    }
  }

  /** For more classes it bounds the worst case from above, and is exact when one rival dominates. */
  @Test
  void robustLossBoundsTheWorstCaseForMoreClasses() {
    SplittableRandom random = new SplittableRandom(5);
    for (int trial = 0; trial < 50; trial++) {
      int d = 1 + random.nextInt(6);
      LinearSoftmax model = new LinearSoftmax(randomWeights(random, 3 + random.nextInt(3), d));
      double[] x = randomVector(random, d);
      int label = random.nextInt(model.numClasses());
      double eps = 0.05 + random.nextDouble();
      assertTrue(model.robustLoss(x, label, eps) >= worstCorner(model, x, label, eps) - 1e-9);
    }
  }

  /** The analytic gradient of every loss variant (robust, smoothed, at a temperature) matches finite differences. */
  @Test
  void gradientMatchesFiniteDifferences() {
    SplittableRandom random = new SplittableRandom(11);
    int classes = 3;
    int d = 4;
    TrainingRow[] rows = new TrainingRow[20];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = new TrainingRow(randomVector(random, d), random.nextInt(classes), 0.5 + random.nextDouble());
    }
    double[][] w = randomWeights(random, classes, d);
    LinearSettings settings = new LinearSettings(1, 0.1, 0, 0, 0, 0.2, 0.3, 0, null, 0, 2.0);
    LinearObjective.Sums at = sum(new LinearObjective(w, settings, null, Double.POSITIVE_INFINITY), rows);
    double h = 1e-6;
    for (int k = 0; k < classes; k++) {
      for (int i = 0; i <= d; i++) {
        double[][] up = copy(w);
        up[k][i] += h;
        double[][] down = copy(w);
        down[k][i] -= h;
        double numeric = (sum(new LinearObjective(up, settings, null, Double.POSITIVE_INFINITY), rows).loss
            - sum(new LinearObjective(down, settings, null, Double.POSITIVE_INFINITY), rows).loss) / (2 * h);
        assertEquals(numeric, at.gradient[k * (d + 1) + i], 1e-5, "class " + k + " weight " + i);
      }
    }
  }

  /**
   * Plain training reaches a sound accuracy; the worst-case loss and PGD training keep most of it under white-box
   * PGD at ε = 0.5, where the plain model loses far more, at a small cost in clean accuracy.
   */
  @Test
  void hardeningHoldsUpUnderWhiteBoxPgd() {
    RobustnessReport plain = evaluate(new LinearTrainer(LinearSettings.plain(200, 0.05, 1e-4), false));
    RobustnessReport robust = evaluate(new LinearTrainer(withRobust(0.1), false));
    RobustnessReport adversarial = evaluate(new LinearTrainer(withAdversarial(0.15), false));
    assertTrue(plain.cleanAccuracy() > 0.9, "plain accuracy " + plain.cleanAccuracy());
    for (RobustnessReport hardened : List.of(robust, adversarial)) {
      assertTrue(plain.cleanAccuracy() - hardened.cleanAccuracy() < 0.03,
          "clean accuracy " + hardened.cleanAccuracy() + " vs plain " + plain.cleanAccuracy());
      assertTrue(whiteBoxAt(hardened) - whiteBoxAt(plain) > 0.08,
          "PGD accuracy " + whiteBoxAt(hardened) + " vs plain " + whiteBoxAt(plain));
    }
  }

  /**
   * Defensive distillation, measured honestly on a linear model: the student distilled at T = 100 and served at 1
   * saturates its probabilities, so on many rows the white-box attacker's gradient is exactly zero; but those are rows
   * far from the boundary, which the budget could not flip anyway. Under white-box and transferred PGD alike the
   * student fares as the plain model does: the zero gradient hides nothing and protects nothing.
   */
  @Test
  void distillationZeroesGradientsWithoutProtectingALinearModel() {
    LinearSoftmax plain = new LinearTrainer(LinearSettings.plain(200, 0.05, 1e-4), false)
        .fit(data.train, 2, data.numFeatures, 42);
    LinearSoftmax student = new LinearTrainer(LinearSettings.plain(200, 0.05, 1e-4).atTemperature(100), true)
        .fit(data.train, 2, data.numFeatures, 42);
    double plainZero = zeroGradientShare(plain);
    double studentZero = zeroGradientShare(student);
    assertTrue(studentZero > plainZero + 0.2, "zero-gradient rows: student " + studentZero + ", plain " + plainZero);
    RobustnessReport.Attack distilled = RobustnessEvaluator.evaluate(data.test, student, guard(student), surrogate,
        List.of(EPS), 20).attacks().get(0);
    RobustnessReport.Attack undistilled = RobustnessEvaluator.evaluate(data.test, plain, guard(plain), surrogate,
        List.of(EPS), 20).attacks().get(0);
    String figures = "student: white-box " + distilled.whiteBox() + ", transferred " + distilled.blackBox()
        + "; plain: white-box " + undistilled.whiteBox() + ", transferred " + undistilled.blackBox();
    assertEquals(undistilled.whiteBox(), distilled.whiteBox(), 0.03, figures);
    assertEquals(undistilled.blackBox(), distilled.blackBox(), 0.03, figures);
  }

  private double zeroGradientShare(LinearSoftmax model) {
    org.apache.spark.api.java.function.MapFunction<Row, Double> zero = r -> {
      double[] g = model.inputGradient(((org.apache.spark.ml.linalg.Vector) r.get(0)).toArray(),
          (int) r.getDouble(1));
      return java.util.Arrays.stream(g).allMatch(v -> v == 0) ? 1.0 : 0.0;
    };
    return data.test.select(col(Columns.FEATURES), col(Columns.LABEL_INDEX))
        .map(zero, org.apache.spark.sql.Encoders.DOUBLE()).agg(org.apache.spark.sql.functions.avg("value")).first()
        .getDouble(0);
  }

  @Test
  void sameDataSameSeedSameModel() {
    LinearTrainer trainer = new LinearTrainer(withRobust(0.1), false);
    LinearSoftmax first = trainer.fit(data.train, 2, data.numFeatures, 42);
    LinearSoftmax second = trainer.fit(data.train.repartition(3), 2, data.numFeatures, 42);
    for (int k = 0; k < 2; k++) {
      assertArrayEquals(first.weights()[k], second.weights()[k], 1e-9);
    }
  }

  /**
   * Trimming leaves the highest-loss rows out of each pass: with a third of the spam relabelled as non-spam (a
   * one-sided flip that drags the boundary), the trimmed fit stays closer to the clean labels than the plain one.
   */
  @Test
  void trimmedLossResistsOneSidedFlips() {
    Column label = col(Columns.LABEL_INDEX);
    Dataset<Row> flipped = data.train.withColumn(Columns.LABEL_INDEX,
        when(label.equalTo(1.0).and(pmod(xxhash64(col(Columns.ID)), lit(3)).equalTo(0)), lit(0.0)).otherwise(label));
    LinearSettings plain = LinearSettings.plain(200, 0.05, 1e-4);
    LinearSettings trimmed = new LinearSettings(200, 0.05, 1e-4, 0, 0, 0, 0, 0.15, null, 0, 1);
    double plainAccuracy = Prepared.accuracy(new LinearTrainer(plain, false).fit(flipped, 2, data.numFeatures, 1),
        data.test);
    double trimmedAccuracy = Prepared.accuracy(new LinearTrainer(trimmed, false).fit(flipped, 2, data.numFeatures,
        1), data.test);
    assertTrue(trimmedAccuracy > plainAccuracy + 0.01, "trimmed " + trimmedAccuracy + " vs plain " + plainAccuracy);
  }

  private RobustnessReport evaluate(LinearTrainer trainer) {
    LinearSoftmax model = trainer.fit(data.train, 2, data.numFeatures, 42);
    return RobustnessEvaluator.evaluate(data.test, model, guard(model), surrogate, List.of(EPS), 20);
  }

  /**
   * The guard a saved model gets: without clipping an attack drives word frequencies below zero, where no training
   * row was and every linear model extrapolates alike.
   */
  private InputGuard guard(Classifier model) {
    return InputGuard.fit(data.train, model, true, 0.001, 0.999, 16, 0.01);
  }

  private static double whiteBoxAt(RobustnessReport report) {
    return report.attacks().get(0).whiteBox();
  }

  private static LinearSettings withRobust(double eps) {
    return new LinearSettings(200, 0.05, 1e-4, 0, 0, 0, eps, 0, null, 0, 1);
  }

  private static LinearSettings withAdversarial(double eps) {
    return new LinearSettings(200, 0.05, 1e-4, 0, 0, 0, 0, 0, new Perturbation("linf", eps, 10), 0.5, 1);
  }

  private static LinearObjective.Sums sum(LinearObjective objective, TrainingRow[] rows) {
    LinearObjective.Sums sums = objective.zero();
    for (TrainingRow r : rows) {
      objective.add(sums, r);
    }
    return sums;
  }

  /** The cross-entropy at the worst of the 2^d corners of the L∞ ball (a linear score gap peaks at a corner). */
  private static double worstCorner(LinearSoftmax model, double[] x, int label, double eps) {
    int d = x.length;
    double worst = Double.NEGATIVE_INFINITY;
    for (int mask = 0; mask < (1 << d); mask++) {
      double[] corner = new double[d];
      for (int i = 0; i < d; i++) {
        corner[i] = x[i] + ((mask >> i & 1) == 1 ? eps : -eps);
      }
      worst = Math.max(worst, -Math.log(model.probabilities(corner)[label]));
    }
    return worst;
  }

  private static double[][] randomWeights(SplittableRandom random, int classes, int d) {
    double[][] w = new double[classes][];
    for (int k = 0; k < classes; k++) {
      w[k] = randomVector(random, d + 1);
    }
    return w;
  }

  private static double[] randomVector(SplittableRandom random, int n) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = random.nextGaussian();
    }
    return v;
  }

  private static double[][] copy(double[][] w) {
    double[][] c = new double[w.length][];
    for (int k = 0; k < w.length; k++) {
      c[k] = w[k].clone();
    }
    return c;
  }
}
