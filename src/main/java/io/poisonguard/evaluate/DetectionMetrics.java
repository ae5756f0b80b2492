package io.poisonguard.evaluate;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How well one score separates poisoned from clean rows.
 *
 * @param rocAuc area under the ROC curve of the score (0.5 = chance)
 * @param prAuc area under the precision-recall curve of the score
 * @param recallAt1Fpr share of poisoned rows scoring above the clean rows' 99th percentile
 * @param recallAt5Fpr share of poisoned rows scoring above the clean rows' 95th percentile
 * @param precision of the flag (NaN when there is no flag, or nothing was flagged)
 * @param recall of the flag
 * @param f1 of the flag
 * @param fpr share of clean rows flagged
 */
public record DetectionMetrics(double rocAuc, double prAuc, double recallAt1Fpr, double recallAt5Fpr,
    double precision, double recall, double f1, double fpr) {

  /** The figures by name, for tables and JSON. */
  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("roc_auc", rocAuc);
    m.put("pr_auc", prAuc);
    m.put("recall_at_1pct_fpr", recallAt1Fpr);
    m.put("recall_at_5pct_fpr", recallAt5Fpr);
    m.put("precision", precision);
    m.put("recall", recall);
    m.put("f1", f1);
    m.put("fpr", fpr);
    return m;
  }
}
