package io.poisonguard.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.audit.AuditLog;
import io.poisonguard.audit.ModelRecord;
import io.poisonguard.audit.Models;
import io.poisonguard.audit.ReleaseRecord;
import io.poisonguard.audit.Releases;
import io.poisonguard.audit.RunRecord;
import io.poisonguard.config.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Everything the audit holds about one run, read back from the audit tables (all small: one run's records and
 * metrics): the run record, detector statistics, metrics, drift and releases. The report, {@code audit show} and
 * the exports are all drawn from it, so they always agree with the audit. A run writes its own report from the
 * records and rows it has just appended ({@link #of}), which {@code HtmlReportTest} checks against a read-back.
 *
 * @param run the run record
 * @param detectors per-detector statistics, the combined score last
 * @param metrics the run's metrics (reasons, sources, gate, input roles, the flag's level)
 * @param drift drift metrics against the reference, by column: metric name to value
 * @param releases releases of the run's quarantined rows, oldest first
 * @param models models trained on the clean table version the run wrote, oldest first
 */
public record RunDocument(RunRecord run, List<DetectorStat> detectors, List<Metric> metrics,
    Map<String, Map<String, Double>> drift, List<ReleaseRecord> releases, List<ModelRecord> models) {

  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One detector's statistics in one run (a row of {@code _audit/detector_stats}).
   *
   * @param detector reason code, or {@code poison_score} for the combined score
   * @param rows rows in the batch
   * @param scored rows with a finite score
   * @param fired rows whose reasons name the detector (for the combined score: flagged rows)
   * @param p50 median score
   * @param p90 90th percentile
   * @param p99 99th percentile
   * @param max largest score
   * @param lowestFired lowest score among the rows it fired on, or null when it fired on none
   * @param logScale whether the histogram is on the signed log10(1+|x|) scale
   * @param edges histogram bin edges (on the display scale)
   * @param kept counts of kept rows per bin
   * @param quarantined counts of quarantined rows per bin
   */
  public record DetectorStat(String detector, long rows, long scored, long fired, Double p50, Double p90, Double p99,
      Double max, Double lowestFired, boolean logScale, double[] edges, long[] kept, long[] quarantined) {}

  /**
   * One metric of the run (a row of {@code _audit/metrics}).
   *
   * @param entity what is measured: reason, source, gate or input
   * @param name which one (a reason code, a source, a column)
   * @param metric the metric's name
   * @param value its value, or null for a text-only metric
   * @param detail text: the gate outcome, a finding's reason, a column's role
   */
  public record Metric(String entity, String name, String metric, Double value, String detail) {}

  /** The run's document; a run id the audit does not know is a usage error. */
  public static RunDocument load(SparkSession spark, String warehouse, String runId) {
    AuditLog audit = new AuditLog(spark, warehouse);
    RunRecord run = audit.run(runId).map(RunRecord::fromRow).orElseThrow(() -> new ConfigException(
        "no run " + runId + " in " + audit.path("runs") + "; 'poisonguard audit list --warehouse " + warehouse
            + "' shows the runs"));
    // one run's audit rows: a row per detector, per metric, per profiled column and metric
    List<ReleaseRecord> releases = new Releases(spark, warehouse).releases(run.pipeline()).stream()
        .filter(rel -> rel.runId().equals(runId)).toList();
    return of(run, audit.rowsOfRun("detector_stats", runId).collectAsList(),
        audit.rowsOfRun("metrics", runId).collectAsList(), audit.rowsOfRun("profiles", runId).collectAsList(),
        releases, new Models(spark, audit).ofRun(runId));
  }

  /**
   * The document of a run from its audit records and rows: what {@link #load} reads back, or what the run itself
   * has just appended (its report is written from those, without a read of six audit tables).
   *
   * @param run the run record
   * @param detectorStats the run's rows of {@code _audit/detector_stats}
   * @param metrics the run's rows of {@code _audit/metrics}
   * @param profiles the run's rows of {@code _audit/profiles}
   * @param releases the run's release records, oldest first
   * @param models the records of the models trained on the run's clean table version, oldest first
   */
  public static RunDocument of(RunRecord run, List<Row> detectorStats, List<Row> metrics, List<Row> profiles,
      List<ReleaseRecord> releases, List<ModelRecord> models) {
    List<DetectorStat> detectors = new ArrayList<>();
    for (Row r : detectorStats) {
      detectors.add(new DetectorStat(r.getAs("detector"), r.<Long>getAs("rows"), r.<Long>getAs("scored"),
          r.<Long>getAs("fired"), r.getAs("p50"), r.getAs("p90"), r.getAs("p99"), r.getAs("max"),
          r.getAs("lowest_fired"), r.<Boolean>getAs("log_scale"),
          r.<Double>getList(r.fieldIndex("bin_edges")).stream().mapToDouble(Double::doubleValue).toArray(),
          r.<Long>getList(r.fieldIndex("kept_counts")).stream().mapToLong(Long::longValue).toArray(),
          r.<Long>getList(r.fieldIndex("quarantined_counts")).stream().mapToLong(Long::longValue).toArray()));
    }
    // the combined score goes last, the detectors in name order
    detectors.sort((a, b) -> a.detector().equals("poison_score") ? 1 : b.detector().equals("poison_score") ? -1
        : a.detector().compareTo(b.detector()));
    List<Metric> metricList = new ArrayList<>();
    for (Row r : metrics) {
      metricList.add(new Metric(r.getAs("entity"), r.getAs("name"), r.getAs("metric"), r.getAs("value"),
          r.getAs("detail")));
    }
    Map<String, Map<String, Double>> drift = new LinkedHashMap<>();
    for (Row r : profiles) {
      String metric = r.getAs("metric");
      if (metric.equals("psi") || metric.startsWith("label_share_change:") || metric.equals("label_js_divergence")) {
        drift.computeIfAbsent(r.getAs("column"), k -> new LinkedHashMap<>()).put(metric, r.getAs("value"));
      }
    }
    return new RunDocument(run, detectors, metricList, drift, releases, models);
  }

  /** Metrics of one entity. */
  public List<Metric> metrics(String entity) {
    return metrics.stream().filter(m -> m.entity().equals(entity)).toList();
  }

  /** The input column with a role ({@code label}, {@code source}, {@code id}), or null. */
  public String column(String role) {
    return metrics("input").stream().filter(m -> role.equals(m.detail())).map(Metric::name).findFirst()
        .orElse(null);
  }

  /** Quarantined rows by reason code, most first. */
  public Map<String, Long> reasons() {
    Map<String, Long> out = new LinkedHashMap<>();
    metrics("reason").stream().sorted(java.util.Comparator.comparingDouble((Metric m) -> -m.value())
            .thenComparing(Metric::name))
        .forEach(m -> out.put(m.name(), m.value().longValue()));
    return out;
  }

  /** Per source: rows, flagged, flagged share, and the reason it was flagged as a whole (or null). */
  public record SourceLine(String source, long rows, long flagged, double share, String wholeReason) {}

  /** The sources, most suspect first. */
  public List<SourceLine> sources() {
    Map<String, long[]> counts = new LinkedHashMap<>();
    Map<String, String> whole = new LinkedHashMap<>();
    for (Metric m : metrics("source")) {
      String key = String.valueOf(m.name());
      switch (m.metric()) {
        case "rows" -> counts.computeIfAbsent(key, k -> new long[2])[0] = m.value().longValue();
        case "flagged" -> counts.computeIfAbsent(key, k -> new long[2])[1] = m.value().longValue();
        case "flagged_as_whole" -> whole.merge(key, m.detail(), (a, b) -> a + "; " + b);
        default -> { }
      }
    }
    List<SourceLine> lines = new ArrayList<>();
    counts.forEach((s, c) -> lines.add(new SourceLine(s, c[0], c[1], c[0] == 0 ? 0 : c[1] / (double) c[0],
        whole.get(s))));
    lines.sort((a, b) -> Double.compare(b.share(), a.share()));
    return lines;
  }

  /**
   * How the flag was set: {@code flag_level} (the combined p-value at or under which rows were flagged),
   * {@code contamination} (the setting: off, auto or the share) and {@code contamination_share} (the share the level
   * was set for), and {@code reference_set_aside} (why a trusted reference was not fitted on); each only when the run
   * recorded it (runs before the flag level was recorded have none).
   */
  public Map<String, Object> detection() {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Metric m : metrics("detect")) {
      switch (m.metric()) {
        case "level" -> {
          out.put("flag_level", m.value());
          out.put("contamination", m.detail());
        }
        case "contamination_share" -> out.put("contamination_share", m.value());
        case "set_aside" -> out.put("reference_set_aside", m.detail());
        default -> { }
      }
    }
    return out;
  }

  /** Population stability index per feature, largest first. */
  public Map<String, Double> psi() {
    Map<String, Double> out = new LinkedHashMap<>();
    drift.entrySet().stream().filter(e -> e.getValue().containsKey("psi") && e.getValue().get("psi") != null)
        .sorted((a, b) -> Double.compare(b.getValue().get("psi"), a.getValue().get("psi")))
        .forEach(e -> out.put(e.getKey(), e.getValue().get("psi")));
    return out;
  }

  /** Change of each class's share against the reference. */
  public Map<String, Double> labelShareChange() {
    Map<String, Double> out = new LinkedHashMap<>();
    drift.values().forEach(m -> m.forEach((k, v) -> {
      if (k.startsWith("label_share_change:")) {
        out.put(k.substring("label_share_change:".length()), v);
      }
    }));
    return out;
  }

  /**
   * The document as JSON-ready maps, with class and source names redacted as {@code redactor} says: summary,
   * gate, inputs and outputs with their versions, drift, detector statistics, reasons, sources, releases.
   * Model provenance is an empty list until a run trains a model.
   */
  public Map<String, Object> toJson(Redactor redactor) throws Exception {
    Map<String, Object> doc = new LinkedHashMap<>();
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("run_id", run.runId());
    summary.put("pipeline", run.pipeline());
    summary.put("pipeline_file", run.pipelineFile());
    summary.put("pipeline_sha256", run.pipelineSha256());
    summary.put("started_at", String.valueOf(run.startedAt()));
    summary.put("finished_at", String.valueOf(run.finishedAt()));
    summary.put("status", run.status());
    summary.put("rows_read", run.rowsRead());
    summary.put("clean", run.clean());
    summary.put("quarantined", run.quarantined());
    summary.put("rejected", run.rejected());
    summary.put("seed", run.seed());
    summary.put("record_hash", run.recordHash());
    summary.put("previous_hash", run.previousHash());
    doc.put("summary", summary);
    Map<String, Object> gate = new LinkedHashMap<>();
    gate.put("decision", run.gate());
    gate.put("reasons", run.gateReasons().stream().map(redactor::reason).toList());
    for (Metric m : metrics("gate")) {
      if (m.value() != null) {
        gate.put(m.metric(), m.value());
        if (m.metric().equals("max_label_share_change")) {
          gate.put("max_label_share_class", redactor.labelValue(m.name()));
        } else if (m.metric().equals("max_psi")) {
          gate.put("max_psi_feature", m.name());
        }
      }
    }
    doc.put("gate", gate);
    doc.put("inputs", parse(run.inputsJson()));
    doc.put("outputs", parse(run.outputsJson()));
    Map<String, Object> driftOut = new LinkedHashMap<>();
    driftOut.put("psi", psi());
    Map<String, Double> shares = new LinkedHashMap<>();
    labelShareChange().forEach((c, v) -> shares.put(redactor.labelValue(c), v));
    driftOut.put("label_share_change", shares);
    doc.put("drift", driftOut);
    List<Map<String, Object>> stats = new ArrayList<>();
    for (DetectorStat d : detectors) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("detector", d.detector());
      m.put("rows", d.rows());
      m.put("scored", d.scored());
      m.put("fired", d.fired());
      m.put("p50", d.p50());
      m.put("p90", d.p90());
      m.put("p99", d.p99());
      m.put("max", d.max());
      m.put("lowest_fired", d.lowestFired());
      m.put("histogram_scale", d.logScale() ? "sign(x)*log10(1+|x|)" : "x");
      m.put("bin_edges", d.edges());
      m.put("kept_counts", d.kept());
      m.put("quarantined_counts", d.quarantined());
      stats.add(m);
    }
    doc.put("detection", detection());
    doc.put("detectors", stats);
    doc.put("reasons", reasons());
    List<Map<String, Object>> sources = new ArrayList<>();
    for (SourceLine s : sources()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("source", redactor.sourceValue(s.source()));
      m.put("rows", s.rows());
      m.put("flagged", s.flagged());
      m.put("flagged_share", s.share());
      m.put("flagged_as_whole", s.wholeReason() == null ? null : redactor.reason(s.wholeReason()));
      sources.add(m);
    }
    doc.put("sources", sources);
    List<Map<String, Object>> rels = new ArrayList<>();
    for (ReleaseRecord r : releases) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("release_id", r.releaseId());
      m.put("released_at", String.valueOf(r.releasedAt()));
      m.put("reviewer", r.reviewer());
      m.put("reason", r.reason());
      m.put("rows", r.rows());
      m.put("target", r.target());
      rels.add(m);
    }
    doc.put("releases", rels);
    List<Map<String, Object>> trained = new ArrayList<>();
    for (ModelRecord m : models) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("model_id", m.modelId());
      entry.put("trained_at", String.valueOf(m.trainedAt()));
      entry.put("trainer", m.trainer());
      entry.put("model_path", m.modelPath());
      entry.put("clean_table", m.cleanTable());
      entry.put("clean_version", m.cleanVersion());
      entry.put("train_rows", m.trainRows());
      entry.put("test_rows", m.testRows());
      entry.put("seed", m.seed());
      entry.put("fingerprint", m.fingerprint());
      entry.put("settings", parse(m.settingsJson()));
      entry.put("evaluation", parse(m.evaluationJson()));
      entry.put("record_hash", m.recordHash());
      trained.add(entry);
    }
    doc.put("models", trained);
    doc.put("software", parse(run.softwareJson()));
    doc.put("timings_seconds", parse(run.timingsJson()));
    return doc;
  }

  private static JsonNode parse(String json) throws Exception {
    return json == null ? null : JSON.readTree(json);
  }
}
