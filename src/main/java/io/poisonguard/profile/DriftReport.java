package io.poisonguard.profile;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * How far a batch moved from its reference: population stability index per feature and the change of each
 * class's share.
 *
 * @param referenceRunId the run whose profile was the reference
 * @param psi PSI per feature, largest first
 * @param labelShareChange absolute change of each class's share, largest first
 * @param labelJensenShannon Jensen–Shannon divergence (base 2, in [0,1]) of the label distributions
 */
public record DriftReport(String referenceRunId, Map<String, Double> psi, Map<String, Double> labelShareChange,
    double labelJensenShannon) {

  public DriftReport {
    psi = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(psi));
    labelShareChange = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(labelShareChange));
  }

  /** The largest PSI of any feature (0 without features). */
  public double maxPsi() {
    return psi.values().stream().findFirst().orElse(0.0);
  }

  /** The feature with the largest PSI, or null. */
  public String maxPsiFeature() {
    return psi.keySet().stream().findFirst().orElse(null);
  }

  /** The largest change of a class's share. */
  public double maxLabelShareChange() {
    return labelShareChange.values().stream().findFirst().orElse(0.0);
  }

  /** The class whose share changed most, or null. */
  public String maxLabelShareClass() {
    return labelShareChange.keySet().stream().findFirst().orElse(null);
  }

  /** Compact form for JSON summaries: the maxima and the five most drifted features. */
  public Map<String, Object> summary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("reference_run", referenceRunId);
    m.put("max_psi", maxPsi());
    m.put("max_psi_feature", maxPsiFeature());
    m.put("max_label_share_change", maxLabelShareChange());
    m.put("max_label_share_class", maxLabelShareClass());
    m.put("label_js_divergence", labelJensenShannon);
    Map<String, Double> top = new LinkedHashMap<>();
    psi.entrySet().stream().limit(5).forEach(e -> top.put(e.getKey(), e.getValue()));
    m.put("top_psi", top);
    return m;
  }

  /** The drift as rows of the metrics table ({@link Profile#SCHEMA}), for the run {@code runId}. */
  public Dataset<Row> toRows(SparkSession spark, String runId, String pipeline) {
    Timestamp now = Timestamp.from(Instant.now());
    List<Row> rows = new ArrayList<>();
    psi.forEach((f, v) -> rows.add(RowFactory.create(runId, pipeline, f, "psi", v, referenceRunId, now)));
    labelShareChange.forEach((c, v) -> rows.add(RowFactory.create(runId, pipeline, Profile.LABEL,
        "label_share_change:" + c, v, referenceRunId, now)));
    rows.add(RowFactory.create(runId, pipeline, Profile.LABEL, "label_js_divergence", labelJensenShannon,
        referenceRunId, now));
    return spark.createDataFrame(rows, Profile.SCHEMA);
  }
}
