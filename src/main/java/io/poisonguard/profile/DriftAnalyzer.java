package io.poisonguard.profile;

import io.poisonguard.ingest.FeatureSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Measures drift of a batch against a reference profile: PSI per feature on the reference's bins, computed for
 * every feature in one aggregation pass over the batch, and the label-share change from the label counts.
 */
public final class DriftAnalyzer {
  /**
   * Floor applied to bin shares before the PSI's logarithm: an empty bin would make it infinite. 1e-4 caps one
   * empty bin's contribution near 0.1·ln(1000) ≈ 0.7 for a 10% bin, large enough to fail a gate, never infinite.
   */
  static final double SHARE_FLOOR = 1e-4;

  /**
   * Drift of {@code batch} (whose profile is {@code current}) against {@code reference}; features missing from the
   * reference are skipped.
   */
  public DriftReport compare(Profile reference, Profile current, Dataset<Row> batch, FeatureSchema schema) {
    Histograms histograms = new Histograms();
    List<String> names = new ArrayList<>();
    List<List<Double>> expected = new ArrayList<>();
    for (String f : schema.allFeatures()) {
      ColumnProfile ref = reference.column(f);
      if (ref == null) {
        continue;
      }
      if (ref.numeric()) {
        histograms.addNumeric(f, ref.binEdges());
        expected.add(ref.binShares());
      } else {
        List<String> categories = Histograms.categories(ref.categoryShares());
        histograms.addCategorical(f, categories);
        expected.add(categoricalShares(ref, categories, reference.rows()));
      }
      names.add(f);
    }
    List<List<Double>> actual = histograms.shares(batch);
    Map<String, Double> psi = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      psi.put(names.get(i), psi(expected.get(i), actual.get(i)));
    }
    Map<String, Double> batchLabels = current.labelShares();
    Map<String, Double> refLabels = reference.labelShares();
    TreeSet<String> classes = new TreeSet<>(refLabels.keySet());
    classes.addAll(batchLabels.keySet());
    Map<String, Double> change = new LinkedHashMap<>();
    for (String c : classes) {
      change.put(c, Math.abs(batchLabels.getOrDefault(c, 0.0) - refLabels.getOrDefault(c, 0.0)));
    }
    return new DriftReport(reference.runId(), sortedDescending(psi), sortedDescending(change),
        jensenShannon(refLabels, batchLabels, classes));
  }

  /** Population stability index: sum of (actual − expected)·ln(actual / expected) over bins, shares floored. */
  static double psi(List<Double> expected, List<Double> actual) {
    double sum = 0;
    for (int i = 0; i < expected.size(); i++) {
      double e = Math.max(expected.get(i), SHARE_FLOOR);
      double a = Math.max(actual.get(i), SHARE_FLOOR);
      sum += (a - e) * Math.log(a / e);
    }
    return sum;
  }

  private static List<Double> categoricalShares(ColumnProfile ref, List<String> categories, long rows) {
    List<Double> shares = new ArrayList<>();
    double listed = 0;
    for (String c : categories) {
      double s = ref.categoryShares().get(c);
      shares.add(s);
      listed += s;
    }
    double missing = rows == 0 ? 0 : ref.nulls() / (double) rows;
    shares.add(Math.max(0, 1 - listed - missing));
    shares.add(missing);
    return shares;
  }

  private static double jensenShannon(Map<String, Double> p, Map<String, Double> q, Iterable<String> classes) {
    double js = 0;
    for (String c : classes) {
      double a = p.getOrDefault(c, 0.0);
      double b = q.getOrDefault(c, 0.0);
      double m = (a + b) / 2;
      js += (a > 0 ? 0.5 * a * Math.log(a / m) : 0) + (b > 0 ? 0.5 * b * Math.log(b / m) : 0);
    }
    return js / Math.log(2);
  }

  private static Map<String, Double> sortedDescending(Map<String, Double> values) {
    Map<String, Double> sorted = new LinkedHashMap<>();
    values.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()
        .thenComparing(Map.Entry.comparingByKey())).forEach(e -> sorted.put(e.getKey(), e.getValue()));
    return sorted;
  }
}
