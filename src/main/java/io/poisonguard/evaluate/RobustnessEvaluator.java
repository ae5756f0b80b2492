package io.poisonguard.evaluate;

import io.poisonguard.spark.Columns;
import io.poisonguard.train.CertifiedClassifier;
import io.poisonguard.train.Classifier;
import io.poisonguard.train.InputGuard;
import io.poisonguard.train.LinearSoftmax;
import io.poisonguard.train.Perturbation;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Measures a trained model on prepared test rows in one pass: clean accuracy; for each L∞ budget, accuracy under
 * white-box PGD (on the model's own gradient, when it is linear) and under PGD crafted on a surrogate and transferred
 * (black-box: a model that only hides its gradient does well on the first and badly on the second); how often the
 * squeezing guard flags clean and attacked inputs; and, for a certifying model, certified accuracy per poison budget.
 * The model is measured as served: every input, clean or attacked, goes through the guard's clipping first; the
 * white-box attacker differentiates the classifier as if clipping were the identity.
 */
public final class RobustnessEvaluator {
  private RobustnessEvaluator() {}

  /**
   * Evaluates {@code classifier} behind {@code guard} on {@code test} ({@code _pg_features}, {@code _pg_label_index}).
   *
   * @param surrogate the linear model transferred attacks are crafted on (trained apart from the model)
   * @param epsilons L∞ budgets
   * @param steps PGD steps per attack
   */
  public static RobustnessReport evaluate(Dataset<Row> test, Classifier classifier, InputGuard guard,
      LinearSoftmax surrogate, List<Double> epsilons, int steps) {
    int e = epsilons.size();
    boolean whiteBox = classifier instanceof LinearSoftmax;
    int maxRadius = classifier instanceof CertifiedClassifier c ? c.maxRadius() : -1;
    // counts: rows, clean right, clean flagged, then per budget 4 (white right, white flagged, black right, black
    // flagged), then right predictions per certified radius 0..maxRadius
    int size = 3 + 4 * e + maxRadius + 1;
    double[] budgets = epsilons.stream().mapToDouble(Double::doubleValue).toArray();
    JavaRDD<Row> rows = test.select(Columns.col(Columns.FEATURES), Columns.col(Columns.LABEL_INDEX)).javaRDD();
    long[] counts = rows.treeAggregate(new long[size], (acc, r) -> {
      double[] x = ((Vector) r.get(0)).toArray();
      int label = (int) r.getDouble(1);
      acc[0]++;
      double[] served = guard.clipped(x);
      boolean right = classifier.predict(served) == label;
      acc[1] += right ? 1 : 0;
      acc[2] += guard.flags(guard.disagreement(classifier, x)) ? 1 : 0;
      for (int b = 0; b < budgets.length; b++) {
        Perturbation pgd = new Perturbation("linf", budgets[b], steps);
        if (whiteBox) {
          double[] attacked = pgd.apply((LinearSoftmax) classifier, x, label);
          acc[3 + 4 * b] += classifier.predict(guard.clipped(attacked)) == label ? 1 : 0;
          acc[4 + 4 * b] += guard.flags(guard.disagreement(classifier, attacked)) ? 1 : 0;
        }
        double[] transferred = pgd.apply(surrogate, x, label);
        acc[5 + 4 * b] += classifier.predict(guard.clipped(transferred)) == label ? 1 : 0;
        acc[6 + 4 * b] += guard.flags(guard.disagreement(classifier, transferred)) ? 1 : 0;
      }
      if (maxRadius >= 0 && right) {
        acc[3 + 4 * e + ((CertifiedClassifier) classifier).certifiedRadius(served)]++;
      }
      return acc;
    }, (a, b) -> {
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      return a;
    }, 2);
    double n = Math.max(1, counts[0]);
    List<RobustnessReport.Attack> attacks = new ArrayList<>();
    for (int b = 0; b < e; b++) {
      attacks.add(new RobustnessReport.Attack(budgets[b], whiteBox ? counts[3 + 4 * b] / n : null,
          counts[5 + 4 * b] / n, whiteBox ? counts[4 + 4 * b] / n : null, counts[6 + 4 * b] / n));
    }
    List<RobustnessReport.Certified> certified = new ArrayList<>();
    long atLeast = 0;
    for (int r = maxRadius; r >= 0; r--) {
      atLeast += counts[3 + 4 * e + r];
      certified.add(0, new RobustnessReport.Certified(r, atLeast / n));
    }
    return new RobustnessReport(counts[0], counts[1] / n, counts[2] / n, attacks, certified);
  }
}
