package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * Optimisation-based poisoning against logistic regression (between the two largest classes), in the manner of
 * Biggio et al. and Mei and Zhu: poison points placed to raise the loss on held-out validation data of the model
 * refitted with them. Everything is solved on the driver on a seeded sample of at most {@value #SAMPLE} rows (half
 * to train the surrogate, half for validation) and a pool of at most {@value #POOL} distinct poison points; the
 * requested number of poison rows is then drawn from the pool.
 *
 * <p>Each round ({@code --steps}, default 30) refits the surrogate on the sample plus the pool, computes
 * v = H⁻¹∇L_val, and moves every poison point one projected sign-gradient step up the implicit gradient
 * ∂L_val/∂x_p = −(1/n)·[(σ(w·x_p) − y_p)·v + σ'(w·x_p)·(v·x_p)·w], inside the box the sample spans. Points start as
 * real rows with the other label, so {@code --steps 0} is plain random label flips of the same size.
 */
final class GradientPoisoning implements Attack {
  static final int SAMPLE = 2000;
  static final int POOL = 400;
  private static final double RIDGE = 1e-2;

  @Override
  public String name() {
    return "gradient";
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    String label = ctx.schema().labelColumn();
    String negative = ctx.classes().get(0);
    String positive = ctx.classes().get(1);
    List<String> features = ctx.schema().numericFeatures();
    Dataset<Row> pair = ctx.rows().filter(Columns.col(label).isin(negative, positive));
    // the sample the optimisation runs on: at most SAMPLE rows reach the driver
    List<Row> sample = ctx.pick(pair, SAMPLE, "gradient-sample").collectAsList();
    Standardised data = Standardised.of(sample, features, label, positive);
    long k = ctx.rowsToAdd();
    int m = (int) Math.min(k, Math.min(POOL, data.x().length / 2));
    double[][] pool = new double[m][];
    double[] poolLabel = new double[m];
    for (int i = 0; i < m; i++) {
      pool[i] = data.x()[i].clone();
      poolLabel[i] = 1 - data.y()[i];
    }
    optimise(data, pool, poolLabel, (int) ctx.spec().number("steps", 30));
    List<Row> poolRows = new java.util.ArrayList<>();
    for (int i = 0; i < m; i++) {
      Object[] values = new Object[features.size() + 2];
      values[0] = (long) i;
      values[1] = poolLabel[i] == 1 ? positive : negative;
      for (int j = 0; j < features.size(); j++) {
        values[j + 2] = pool[i][j] * data.std()[j] + data.mean()[j];
      }
      poolRows.add(org.apache.spark.sql.RowFactory.create(values));
    }
    org.apache.spark.sql.types.StructType poolSchema = new org.apache.spark.sql.types.StructType()
        .add("__pool", DataTypes.LongType).add("__label", DataTypes.StringType);
    for (String f : features) {
      poolSchema = poolSchema.add("__" + f, DataTypes.DoubleType);
    }
    Dataset<Row> poolFrame = ctx.rows().sparkSession().createDataFrame(poolRows, poolSchema);
    long available = ctx.classCounts().get(0) + ctx.classCounts().get(1);
    Dataset<Row> added = ctx.draw(pair, available, k, "gradient")
        .withColumn("__pool", functions.pmod(ctx.order("gradient-pool"), functions.lit((long) m)))
        .join(functions.broadcast(poolFrame), "__pool")
        .withColumn(label, functions.col("__label"));
    for (String f : features) {
      added = added.withColumn(f, Columns.col("__" + f));
    }
    Column[] keep = java.util.Arrays.stream(ctx.rows().columns()).map(Columns::col).toArray(Column[]::new);
    return ctx.withAdded(ctx.withNewIds(added.select(keep), "gradient"));
  }

  /** Moves the pool points up the validation loss of the surrogate refitted with them, {@code rounds} times. */
  static void optimise(Standardised data, double[][] pool, double[] poolLabel, int rounds) {
    int half = data.x().length / 2;
    int d = data.mean().length;
    double[][] trainX = new double[half + pool.length][];
    double[] trainY = new double[half + pool.length];
    for (int i = 0; i < half; i++) {
      trainX[i] = data.x()[i];
      trainY[i] = data.y()[i];
    }
    double[][] valX = java.util.Arrays.copyOfRange(data.x(), half, data.x().length);
    double[] valY = java.util.Arrays.copyOfRange(data.y(), half, data.y().length);
    double[] w = new double[d + 1];
    double step = 0.5;
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < pool.length; i++) {
        trainX[half + i] = pool[i];
        trainY[half + i] = poolLabel[i];
      }
      w = Logistic.fit(trainX, trainY, w, RIDGE, round == 0 ? 25 : 5);
      double[] v = Logistic.solve(Logistic.hessian(trainX, w, RIDGE), Logistic.gradient(valX, valY, w, 0));
      for (int i = 0; i < pool.length; i++) {
        double[] x = pool[i];
        double p = Logistic.sigmoid(Logistic.margin(w, x));
        double vx = v[d];
        for (int j = 0; j < d; j++) {
          vx += v[j] * x[j];
        }
        for (int j = 0; j < d; j++) {
          double ascent = -((p - poolLabel[i]) * v[j] + p * (1 - p) * vx * w[j]);
          x[j] = Math.min(data.high()[j], Math.max(data.low()[j], x[j] + step * Math.signum(ascent)));
        }
      }
      step *= 0.93;
    }
  }

  /**
   * The driver-side sample in standardised units, with the box each feature spans.
   *
   * @param x rows × features, standardised
   * @param y 1 for the positive class
   * @param mean per feature
   * @param std per feature
   * @param low per feature, standardised minimum
   * @param high per feature, standardised maximum
   */
  record Standardised(double[][] x, double[] y, double[] mean, double[] std, double[] low, double[] high) {
    static Standardised of(List<Row> sample, List<String> features, String label, String positive) {
      int n = sample.size();
      int d = features.size();
      double[][] x = new double[n][d];
      double[] y = new double[n];
      double[] mean = new double[d];
      double[] std = new double[d];
      double[] low = new double[d];
      double[] high = new double[d];
      for (int i = 0; i < n; i++) {
        Row r = sample.get(i);
        for (int j = 0; j < d; j++) {
          Object v = r.getAs(features.get(j));
          x[i][j] = v == null ? 0 : ((Number) v).doubleValue();
          mean[j] += x[i][j] / n;
        }
        y[i] = positive.equals(r.getAs(label)) ? 1 : 0;
      }
      for (int j = 0; j < d; j++) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
          ss += (x[i][j] - mean[j]) * (x[i][j] - mean[j]);
        }
        std[j] = Math.max(Math.sqrt(ss / Math.max(1, n - 1)), 1e-9);
        low[j] = Double.POSITIVE_INFINITY;
        high[j] = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
          x[i][j] = (x[i][j] - mean[j]) / std[j];
          low[j] = Math.min(low[j], x[i][j]);
          high[j] = Math.max(high[j], x[i][j]);
        }
      }
      return new Standardised(x, y, mean, std, low, high);
    }
  }
}
