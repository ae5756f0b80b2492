package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Influence scores against exact leave-one-out retraining, and as a flip detector on spambase. */
class InfluenceTest extends OnSpambase {
  private static final String SCORE = PoisonDetector.scoreColumn(InfluenceDetector.CODE);
  private static final String EVIDENCE = PoisonDetector.evidenceColumn(InfluenceDetector.CODE);
  private static final double RIDGE = 1e-3;

  @Test
  void agreesInSignAndRankWithLeaveOneOutRetraining() {
    // 200 rows x 4 features, 10% of labels flipped so that some rows really hurt the fit of the others.
    Dataset<Row> small = Spambase.flip(data.clean, 0.10, 21)
        .where(col(Columns.ID).isin(Spambase.pick(200, 22).toArray()));
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(new FeatureSchema("type",
        List.of("remove", "free", "charExclamation", "capitalAve"), List.of())).fit(small);
    Dataset<Row> prepared = preparer.transform(small).cache();
    InfluenceModel model = new InfluenceDetector().setRidge(RIDGE).fit(prepared);
    List<Row> rows = model.transform(prepared).select(col(Columns.FEATURES), col(Columns.LABEL_INDEX), col(EVIDENCE))
        .collectAsList();
    prepared.unpersist();
    int n = rows.size();
    assertEquals(200, n);
    double[][] x = new double[n][];
    double[] y = new double[n];
    double[] predicted = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = LogisticFits.design((Vector) rows.get(i).get(0));
      y[i] = rows.get(i).getDouble(1);
      // The score is ln(influence); the evidence carries the signed predicted change itself.
      String evidence = rows.get(i).getString(2);
      predicted[i] = Double.parseDouble(evidence.substring("influence=".length(), evidence.indexOf(',')));
    }
    // The penalty of the full fit (per-row ridge times its rows), held fixed when a row is left out.
    double lambda = RIDGE * n;
    double[] full = exactFit(x, y, -1, lambda);
    double[] actual = new double[n];
    for (int i = 0; i < n; i++) {
      double[] without = exactFit(x, y, i, lambda);
      // The others' loss with the row in the training data minus without it: the row's harm to the rest.
      actual[i] = loss(x, y, i, full) - loss(x, y, i, without);
    }
    double rho = spearman(predicted, actual);
    int sameSign = 0;
    for (int i = 0; i < n; i++) {
      if (Math.signum(predicted[i]) == Math.signum(actual[i])) {
        sameSign++;
      }
    }
    System.out.printf("influence vs leave-one-out (200 rows x 4 features): Spearman %.4f, same sign %d/200%n",
        rho, sameSign);
    assertTrue(rho >= 0.8, "Spearman " + rho);
    assertTrue(sameSign >= 190, "same sign " + sameSign);
  }

  @Test
  void ranksRandomFlipsAboveCleanRowsWithEvidence(@TempDir Path dir) throws java.io.IOException {
    Dataset<Row> flipped = Spambase.flip(data.clean, 0.10, 23);
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(data.schema).fit(flipped);
    Dataset<Row> prepared = preparer.transform(flipped).cache();
    InfluenceModel model = new InfluenceDetector().fit(prepared);
    Dataset<Row> scored = model.transform(prepared).cache();
    double auc = Spambase.auc(scored, SCORE, Spambase.FLIPPED);
    System.out.printf("influence AUC, 10%% flips, batch mode: %.4f%n", auc);
    assertTrue(auc >= 0.85, "AUC " + auc);
    String evidence = scored.orderBy(col(SCORE).desc()).first().getAs(EVIDENCE);
    assertTrue(evidence.matches("influence=[0-9.e+-]+,self=[0-9.]+"), evidence);

    model.write().save(dir.resolve("influence").toString());
    Dataset<Row> again = InfluenceModel.load(dir.resolve("influence").toString()).transform(prepared);
    assertEquals(0, ScoreDifferences.count(scored, again, SCORE, EVIDENCE));
    scored.unpersist();
    prepared.unpersist();
  }

  /** Exact ridge logistic fit by Newton's method on the driver, leaving out row {@code skip} (−1 = none). */
  private static double[] exactFit(double[][] x, double[] y, int skip, double lambda) {
    int d = x[0].length;
    double[] w = new double[d];
    for (int iter = 0; iter < 100; iter++) {
      double[] g = new double[d];
      double[] h = new double[d * d];
      for (int i = 0; i < x.length; i++) {
        if (i == skip) {
          continue;
        }
        double p = 1 / (1 + Math.exp(-LogisticFits.dot(w, x[i])));
        for (int a = 0; a < d; a++) {
          g[a] += (p - y[i]) * x[i][a];
          for (int b = 0; b < d; b++) {
            h[a * d + b] += p * (1 - p) * x[i][a] * x[i][b];
          }
        }
      }
      for (int a = 0; a < d - 1; a++) {
        g[a] += lambda * w[a];
        h[a * d + a] += lambda;
      }
      double[] step = LogisticFits.solve(LogisticFits.cholesky(h, d), g, d);
      double size = 0;
      for (int a = 0; a < d; a++) {
        w[a] -= step[a];
        size = Math.max(size, Math.abs(step[a]));
      }
      if (size < 1e-12) {
        break;
      }
    }
    return w;
  }

  /** Summed log-loss of every row but {@code skip}. */
  private static double loss(double[][] x, double[] y, int skip, double[] w) {
    double total = 0;
    for (int i = 0; i < x.length; i++) {
      if (i != skip) {
        double z = LogisticFits.dot(w, x[i]);
        // log(1 + e^z) − y·z, written to stay finite for large |z|.
        total += Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))) - y[i] * z;
      }
    }
    return total;
  }

  private static double spearman(double[] a, double[] b) {
    double[] ra = ranks(a);
    double[] rb = ranks(b);
    double ma = Arrays.stream(ra).average().orElse(0);
    double mb = Arrays.stream(rb).average().orElse(0);
    double num = 0;
    double da = 0;
    double db = 0;
    for (int i = 0; i < a.length; i++) {
      num += (ra[i] - ma) * (rb[i] - mb);
      da += (ra[i] - ma) * (ra[i] - ma);
      db += (rb[i] - mb) * (rb[i] - mb);
    }
    return num / Math.sqrt(da * db);
  }

  private static double[] ranks(double[] v) {
    Integer[] order = new Integer[v.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingDouble(i -> v[i]));
    double[] rank = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      rank[order[i]] = i;
    }
    return rank;
  }
}
