package io.poisonguard.redteam;

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
 * Optimisation-based poisoning against logistic regression, between the two largest classes. A surrogate model
 * is fitted on a seeded sample (at most {@value #SAMPLE} rows, on the driver) and the influence of one added point
 * on the validation loss is linearised: adding (x, y) moves the weights by about −H⁻¹∇ℓ(x, y)/n, so the
 * validation loss grows with f(x) = −(σ(w·x) − y)·(v·x), v = H⁻¹∇L_val. Each poison point starts at a real row,
 * takes the other label, and climbs f by projected gradient ascent ({@code --steps}, default 100) inside the
 * per-feature box the sample spans. The ascent runs per row in Spark tasks with the small surrogate broadcast.
 */
final class GradientPoisoning implements Attack {
  static final int SAMPLE = 2000;

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
    Dataset<Row> pair = ctx.rows().filter(functions.col(label).isin(negative, positive));
    // the surrogate's training sample: at most SAMPLE rows reach the driver
    List<Row> sample = ctx.pick(pair, SAMPLE, "gradient-sample").collectAsList();
    Surrogate surrogate = Surrogate.fit(sample, features, label, positive);
    int steps = (int) ctx.spec().number("steps", 100);
    UserDefinedFunction climb = functions.udf((UDF1<Row, double[]>) row -> surrogate.ascend(row, steps),
        DataTypes.createArrayType(DataTypes.DoubleType, false));
    long available = ctx.classCounts().get(0) + ctx.classCounts().get(1);
    Dataset<Row> starts = ctx.draw(pair, available, ctx.rowsToAdd(), "gradient")
        .withColumn(label, functions.when(functions.col(label).equalTo(positive), negative).otherwise(positive));
    Column[] inputs = new Column[features.size() + 1];
    for (int j = 0; j < features.size(); j++) {
      inputs[j] = functions.col(features.get(j));
    }
    inputs[features.size()] = functions.col(label);
    Dataset<Row> moved = starts.withColumn("__x", climb.apply(functions.struct(inputs)));
    for (int j = 0; j < features.size(); j++) {
      moved = moved.withColumn(features.get(j), functions.col("__x").getItem(j));
    }
    return ctx.withAdded(ctx.withNewIds(moved.drop("__x"), "gradient"));
  }

  /** The surrogate logistic model and what the ascent needs, in standardised units. */
  record Surrogate(String positive, double[] mean, double[] std, double[] low, double[] high, double[] w, double b,
      double[] v) implements Serializable {

    static Surrogate fit(List<Row> sample, List<String> features, String label, String positive) {
      int n = sample.size();
      int d = features.size();
      double[][] x = new double[n][d];
      double[] y = new double[n];
      double[] mean = new double[d];
      double[] std = new double[d];
      for (int i = 0; i < n; i++) {
        Row r = sample.get(i);
        for (int j = 0; j < d; j++) {
          Object v = r.getAs(features.get(j));
          x[i][j] = v == null ? 0 : ((Number) v).doubleValue();
          mean[j] += x[i][j] / n;
        }
        y[i] = positive.equals(r.getAs(label)) ? 1 : 0;
      }
      double[] low = new double[d];
      double[] high = new double[d];
      java.util.Arrays.fill(low, Double.POSITIVE_INFINITY);
      java.util.Arrays.fill(high, Double.NEGATIVE_INFINITY);
      for (int j = 0; j < d; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
          s += (x[i][j] - mean[j]) * (x[i][j] - mean[j]);
        }
        std[j] = Math.max(Math.sqrt(s / Math.max(1, n - 1)), 1e-9);
        for (int i = 0; i < n; i++) {
          x[i][j] = (x[i][j] - mean[j]) / std[j];
          low[j] = Math.min(low[j], x[i][j]);
          high[j] = Math.max(high[j], x[i][j]);
        }
      }
      int half = n / 2;
      double ridge = 1e-2;
      double[] w = new double[d + 1];
      for (int iter = 0; iter < 25; iter++) {
        double[][] h = new double[d + 1][d + 1];
        double[] g = new double[d + 1];
        for (int i = 0; i < half; i++) {
          double p = sigmoid(dot(w, x[i]));
          double s = p * (1 - p);
          for (int a = 0; a <= d; a++) {
            double xa = a < d ? x[i][a] : 1;
            g[a] += (p - y[i]) * xa / half;
            for (int c = 0; c <= d; c++) {
              h[a][c] += s * xa * (c < d ? x[i][c] : 1) / half;
            }
          }
        }
        for (int a = 0; a < d; a++) {
          g[a] += ridge * w[a];
          h[a][a] += ridge;
        }
        h[d][d] += 1e-9;
        double[] step = solve(h, g);
        for (int a = 0; a <= d; a++) {
          w[a] -= step[a];
        }
      }
      double[][] h = new double[d][d];
      double[] gVal = new double[d];
      for (int i = 0; i < half; i++) {
        double p = sigmoid(dot(w, x[i]));
        for (int a = 0; a < d; a++) {
          for (int c = 0; c < d; c++) {
            h[a][c] += p * (1 - p) * x[i][a] * x[i][c] / half;
          }
        }
      }
      for (int a = 0; a < d; a++) {
        h[a][a] += ridge;
      }
      for (int i = half; i < n; i++) {
        double p = sigmoid(dot(w, x[i]));
        for (int a = 0; a < d; a++) {
          gVal[a] += (p - y[i]) * x[i][a] / Math.max(1, n - half);
        }
      }
      return new Surrogate(positive, mean, std, low, high, java.util.Arrays.copyOf(w, d), w[d], solve(h, gVal));
    }

    /** Projected gradient ascent of f from the row's features; returns them in the data's units. */
    double[] ascend(Row row, int steps) {
      int d = w.length;
      double[] x = new double[d];
      for (int j = 0; j < d; j++) {
        Object v = row.get(j);
        x[j] = ((v == null ? mean[j] : ((Number) v).doubleValue()) - mean[j]) / std[j];
      }
      double y = positive.equals(row.get(d)) ? 1 : 0;
      double rate = 0.5;
      for (int s = 0; s < steps; s++) {
        double z = b;
        double vx = 0;
        for (int j = 0; j < d; j++) {
          z += w[j] * x[j];
          vx += v[j] * x[j];
        }
        double p = sigmoid(z);
        for (int j = 0; j < d; j++) {
          double gradient = -(p * (1 - p) * w[j] * vx + (p - y) * v[j]);
          x[j] = Math.min(high[j], Math.max(low[j], x[j] + rate * Math.signum(gradient)));
        }
        rate *= 0.97;
      }
      double[] out = new double[d];
      for (int j = 0; j < d; j++) {
        out[j] = x[j] * std[j] + mean[j];
      }
      return out;
    }

    private static double dot(double[] weights, double[] xs) {
      double z = weights.length > xs.length ? weights[xs.length] : 0;
      for (int j = 0; j < xs.length; j++) {
        z += weights[j] * xs[j];
      }
      return z;
    }

    private static double sigmoid(double z) {
      return 1 / (1 + Math.exp(-z));
    }

    /** Solves a x = b by Gaussian elimination with partial pivoting (a is small: features + 1 square). */
    static double[] solve(double[][] a, double[] b) {
      int n = b.length;
      double[][] m = new double[n][];
      double[] r = b.clone();
      for (int i = 0; i < n; i++) {
        m[i] = a[i].clone();
      }
      for (int col = 0; col < n; col++) {
        int pivot = col;
        for (int i = col + 1; i < n; i++) {
          if (Math.abs(m[i][col]) > Math.abs(m[pivot][col])) {
            pivot = i;
          }
        }
        double[] t = m[col];
        m[col] = m[pivot];
        m[pivot] = t;
        double tr = r[col];
        r[col] = r[pivot];
        r[pivot] = tr;
        for (int i = col + 1; i < n; i++) {
          double f = m[i][col] / m[col][col];
          for (int c = col; c < n; c++) {
            m[i][c] -= f * m[col][c];
          }
          r[i] -= f * r[col];
        }
      }
      double[] x = new double[n];
      for (int i = n - 1; i >= 0; i--) {
        double s = r[i];
        for (int c = i + 1; c < n; c++) {
          s -= m[i][c] * x[c];
        }
        x[i] = s / m[i][i];
      }
      return x;
    }
  }
}
