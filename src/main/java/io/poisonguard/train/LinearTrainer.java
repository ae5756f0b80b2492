package io.poisonguard.train;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.OrderedAggregate;
import java.util.Arrays;
import java.util.function.Function;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * PoisonGuard's own softmax trainer, the one every hardening applies to: full-batch Adam over {@link LinearObjective},
 * one ordered aggregation per pass on Spark rows (driver memory: the weights, classes × features), or the same
 * loop over an array inside a task when it is a partition ensemble's base learner. Deterministic: weights start at
 * zero, passes are full and their partition sums merged in partition order ({@link OrderedAggregate}). With distillation a teacher is fitted at
 * the temperature first and the student learns its softened outputs; the student is served at temperature 1.
 */
public final class LinearTrainer implements ModelTrainer, LocalTrainer {
  private static final long serialVersionUID = 1L;
  private static final double BETA1 = 0.9;
  private static final double BETA2 = 0.999;
  private static final double ADAM_EPS = 1e-8;

  private final LinearSettings settings;
  private final boolean distill;

  /** A trainer with {@code settings}; {@code distill} fits a teacher at the settings' temperature first. */
  public LinearTrainer(LinearSettings settings, boolean distill) {
    this.settings = settings;
    this.distill = distill;
  }

  @Override
  public String name() {
    return LinearSoftmax.TRAINER;
  }

  @Override
  public LinearSoftmax fit(Dataset<Row> prepared, int numClasses, int numFeatures, long seed) {
    JavaRDD<TrainingRow> rows = prepared.select(Columns.col(Columns.FEATURES), Columns.col(Columns.LABEL_INDEX),
            Columns.col(Columns.WEIGHT)).javaRDD()
        .map(r -> new TrainingRow(((Vector) r.get(0)).toArray(), (int) r.getDouble(1), r.getDouble(2)))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      return fit(objective -> sum(rows, objective), numClasses, numFeatures);
    } finally {
      rows.unpersist(false);
    }
  }

  private static LinearObjective.Sums sum(JavaRDD<TrainingRow> rows, LinearObjective objective) {
    return OrderedAggregate.of(rows, objective.zero(), objective::add, LinearObjective.Sums::merge);
  }

  @Override
  public LinearSoftmax fit(double[][] features, int[] labels, double[] weights, int numClasses, long seed) {
    TrainingRow[] rows = new TrainingRow[features.length];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = new TrainingRow(features[i], labels[i], weights[i]);
    }
    return fit(objective -> {
      LinearObjective.Sums sums = objective.zero();
      for (TrainingRow row : rows) {
        objective.add(sums, row);
      }
      return sums;
    }, numClasses, features.length == 0 ? 0 : features[0].length);
  }

  private LinearSoftmax fit(Function<LinearObjective, LinearObjective.Sums> pass, int classes, int d) {
    if (!distill) {
      return optimise(pass, classes, d, settings, null);
    }
    LinearSoftmax teacher = optimise(pass, classes, d, settings, null);
    return optimise(pass, classes, d, settings, teacher);
  }

  private LinearSoftmax optimise(Function<LinearObjective, LinearObjective.Sums> pass, int classes, int d,
      LinearSettings s, LinearSoftmax teacher) {
    int size = classes * (d + 1);
    double[] w = new double[size];
    double[] m = new double[size];
    double[] v = new double[size];
    double trim = Double.POSITIVE_INFINITY;
    for (int t = 1; t <= s.maxIter(); t++) {
      LinearObjective.Sums sums = pass.apply(new LinearObjective(unflatten(w, classes, d), s, teacher, trim));
      if (sums.keptWeight <= 0) {
        throw new IllegalArgumentException("the linear trainer got no rows with positive weight");
      }
      // at temperature T the weights of the same decision function are T times larger: steps scale by T and the
      // ridge by 1/T², so a fit at any temperature follows the path of the fit at 1, stretched
      double lr = s.learningRate() * s.temperature() * 0.5 * (1 + Math.cos(Math.PI * (t - 1) / s.maxIter()));
      double l2 = s.l2() / (s.temperature() * s.temperature());
      for (int i = 0; i < size; i++) {
        boolean intercept = i % (d + 1) == d;
        double g = sums.gradient[i] / sums.keptWeight + (intercept ? 0 : l2 * w[i]);
        m[i] = BETA1 * m[i] + (1 - BETA1) * g;
        v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
        double mHat = m[i] / (1 - Math.pow(BETA1, t));
        double vHat = v[i] / (1 - Math.pow(BETA2, t));
        w[i] -= lr * mHat / (Math.sqrt(vHat) + ADAM_EPS);
        if (!intercept && s.l1() > 0) {
          w[i] = Math.signum(w[i]) * Math.max(0, Math.abs(w[i]) - lr * s.l1());
        }
      }
      boundNorm(w, d, s.maxWeightNorm());
      if (s.trimShare() > 0) {
        trim = sums.quantileLoss(s.trimShare());
      }
    }
    return new LinearSoftmax(unflatten(w, classes, d));
  }

  private static void boundNorm(double[] w, int d, double bound) {
    if (bound <= 0) {
      return;
    }
    double sq = 0;
    for (int i = 0; i < w.length; i++) {
      if (i % (d + 1) != d) {
        sq += w[i] * w[i];
      }
    }
    double norm = Math.sqrt(sq);
    if (norm > bound) {
      for (int i = 0; i < w.length; i++) {
        if (i % (d + 1) != d) {
          w[i] *= bound / norm;
        }
      }
    }
  }

  private static double[][] unflatten(double[] w, int classes, int d) {
    double[][] out = new double[classes][];
    for (int k = 0; k < classes; k++) {
      out[k] = Arrays.copyOfRange(w, k * (d + 1), (k + 1) * (d + 1));
    }
    return out;
  }
}
