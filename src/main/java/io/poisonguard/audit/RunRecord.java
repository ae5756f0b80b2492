package io.poisonguard.audit;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One run of a pipeline as the audit keeps it: what was read (with versions), what was written (with versions),
 * the counts, the gate's decision, timings and the software that did it. Nested details are JSON text so the
 * table's schema stays fixed as the product grows.
 *
 * @param runId unique run id
 * @param pipeline pipeline name
 * @param pipelineFile the pipeline file path
 * @param pipelineSha256 hash of the pipeline file and overrides
 * @param startedAt start of the run
 * @param finishedAt end of the run
 * @param status {@link #OK}, or {@link #FAILED} for a run whose table writes or accounting check failed (the
 *     tables may hold part of its batch; rerunning the batch completes them)
 * @param rowsRead every record read
 * @param clean records accepted (written to clean, or to staged when the gate failed)
 * @param quarantined records flagged
 * @param rejected records that could not be read
 * @param gate pass, warn or fail
 * @param gateReasons the gate's reasons
 * @param inputsJson inputs read ({@code batch}, and {@code reference} when one is given), each with its Delta version
 *     or file size and time
 * @param outputsJson tables written, with the Delta version each is at after the run; for a failed run the error,
 *     as {@code {"error": "..."}}
 * @param driftJson drift against the reference, or {@code null}
 * @param timingsJson seconds per stage
 * @param softwareJson versions of PoisonGuard, Spark, Delta, Java; the Spark master
 * @param seed the pipeline seed
 * @param previousHash {@link #recordHash} of the previous record of the same pipeline, or empty for the first
 * @param recordHash hash over this record's fields and {@code previousHash}, chaining the pipeline's records
 */
public record RunRecord(String runId, String pipeline, String pipelineFile, String pipelineSha256,
    Instant startedAt, Instant finishedAt, String status, long rowsRead, long clean, long quarantined, long rejected,
    String gate, List<String> gateReasons, String inputsJson, String outputsJson, String driftJson,
    String timingsJson, String softwareJson, long seed, String previousHash, String recordHash) {

  /** Status of a run that completed its writes and proved the accounting invariant. */
  public static final String OK = "ok";
  /** Status of a run whose table writes or accounting check failed. */
  public static final String FAILED = "failed";

  public RunRecord {
    gateReasons = List.copyOf(gateReasons);
  }

  /** A record as stored in {@code _audit/runs}. */
  public static RunRecord fromRow(org.apache.spark.sql.Row r) {
    java.util.function.Function<String, Instant> at = c -> r.isNullAt(r.fieldIndex(c)) ? null
        : r.<java.sql.Timestamp>getAs(c).toInstant();
    return new RunRecord(r.getAs("run_id"), r.getAs("pipeline"), r.getAs("pipeline_file"), r.getAs("pipeline_sha256"),
        at.apply("started_at"), at.apply("finished_at"), r.getAs("status"), r.<Long>getAs("rows_read"),
        r.<Long>getAs("clean"), r.<Long>getAs("quarantined"), r.<Long>getAs("rejected"), r.getAs("gate"),
        new java.util.ArrayList<>(r.getList(r.fieldIndex("gate_reasons"))), r.getAs("inputs"), r.getAs("outputs"),
        r.getAs("drift"), r.getAs("timings"), r.getAs("software"), r.<Long>getAs("seed"), r.getAs("previous_hash"),
        r.getAs("record_hash"));
  }

  /** Whether the run's batch was accepted (gate pass or warn, writes complete). */
  public boolean accepted() {
    return OK.equals(status) && ("pass".equals(gate) || "warn".equals(gate));
  }

  /** Field values in table column order, hash fields last; the basis of {@link #recordHash}. */
  Map<String, Object> fields() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("run_id", runId);
    m.put("pipeline", pipeline);
    m.put("pipeline_file", pipelineFile);
    m.put("pipeline_sha256", pipelineSha256);
    m.put("started_at", startedAt);
    m.put("finished_at", finishedAt);
    m.put("status", status);
    m.put("rows_read", rowsRead);
    m.put("clean", clean);
    m.put("quarantined", quarantined);
    m.put("rejected", rejected);
    m.put("gate", gate);
    m.put("gate_reasons", gateReasons);
    m.put("inputs", inputsJson);
    m.put("outputs", outputsJson);
    m.put("drift", driftJson);
    m.put("timings", timingsJson);
    m.put("software", softwareJson);
    m.put("seed", seed);
    m.put("previous_hash", previousHash);
    return m;
  }
}
