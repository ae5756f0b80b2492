package io.poisonguard.report;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What a run did, for people and schedulers: the summary table printed at the end of {@code run}, and the JSON
 * written by {@code --output-json}.
 *
 * @param runId the run id
 * @param pipeline pipeline name
 * @param rowsRead every record read
 * @param clean records that passed detection (in {@code clean}, or {@code staged} when the gate failed)
 * @param quarantined records flagged by the detectors
 * @param rejected records that could not be read
 * @param gate pass, warn or fail
 * @param gateReasons the gate's reasons
 * @param topReasons quarantine reason codes with their counts, most frequent first
 * @param tables table name to path
 * @param drift drift figures against the reference, or empty without one
 * @param timings seconds per stage
 */
public record RunSummary(
    @JsonProperty("run_id") String runId,
    @JsonProperty("pipeline") String pipeline,
    @JsonProperty("rows_read") long rowsRead,
    @JsonProperty("clean") long clean,
    @JsonProperty("quarantined") long quarantined,
    @JsonProperty("rejected") long rejected,
    @JsonProperty("gate") String gate,
    @JsonProperty("gate_reasons") List<String> gateReasons,
    @JsonProperty("top_reasons") Map<String, Long> topReasons,
    @JsonProperty("tables") Map<String, String> tables,
    @JsonProperty("drift") Map<String, Object> drift,
    @JsonProperty("timings_seconds") Map<String, Double> timings) {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** This summary with {@code timings} as its stage timings: the run's last stages end after it is built. */
  public RunSummary withTimings(Map<String, Double> timings) {
    return new RunSummary(runId, pipeline, rowsRead, clean, quarantined, rejected, gate, gateReasons, topReasons,
        tables, drift, timings);
  }

  /** Writes the summary as JSON. */
  public void writeJson(Path file) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    JSON.writeValue(file.toFile(), this);
  }

  /** The summary table printed at the end of a run. */
  public String toTable() {
    StringBuilder s = new StringBuilder();
    s.append(String.format("%n  run %s  (pipeline %s)%n", runId, pipeline));
    row(s, "rows read", Long.toString(rowsRead));
    row(s, "clean", Long.toString(clean) + ("fail".equals(gate) ? "  (held in staged: gate failed)" : ""));
    row(s, "quarantined", Long.toString(quarantined));
    row(s, "rejected", Long.toString(rejected));
    row(s, "gate", gate.toUpperCase(java.util.Locale.ROOT));
    for (String reason : gateReasons) {
      row(s, "", "- " + reason);
    }
    String label = "top reasons";
    for (Map.Entry<String, Long> e : topReasons.entrySet()) {
      row(s, label, String.format("%-28s %d", e.getKey(), e.getValue()));
      label = "";
    }
    label = "outputs";
    for (Map.Entry<String, String> e : tables.entrySet()) {
      row(s, label, String.format("%-12s %s", e.getKey(), e.getValue()));
      label = "";
    }
    return s.toString();
  }

  private static void row(StringBuilder s, String key, String value) {
    s.append(String.format("  %-12s %s%n", key, value));
  }
}
