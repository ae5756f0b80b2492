package io.poisonguard.audit;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A reviewer's decision to release quarantined rows of one run back to the run's accepted table, as the audit keeps
 * it. The released ids themselves are in {@code _audit/released_rows} under the same release id.
 *
 * @param releaseId deterministic id: the same run, ids and reason give the same release
 * @param pipeline pipeline name
 * @param runId the run whose quarantined rows are released
 * @param releasedAt when the release was recorded
 * @param reviewer who decided
 * @param reason why, in the reviewer's words
 * @param idsFile the file the ids were read from
 * @param rows how many rows were released
 * @param target the table they went to ({@code clean}, or {@code staged} when the run's gate failed)
 * @param outputsJson Delta version of the target and quarantine tables after the release
 * @param previousHash {@link #recordHash} of the previous release of the same pipeline, or empty for the first
 * @param recordHash hash over this record's fields and {@code previousHash}
 */
public record ReleaseRecord(String releaseId, String pipeline, String runId, Instant releasedAt, String reviewer,
    String reason, String idsFile, long rows, String target, String outputsJson, String previousHash,
    String recordHash) {

  /** Field values in table column order, the hash last; the basis of {@link #recordHash}. */
  Map<String, Object> fields() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("release_id", releaseId);
    m.put("pipeline", pipeline);
    m.put("run_id", runId);
    m.put("released_at", releasedAt);
    m.put("reviewer", reviewer);
    m.put("reason", reason);
    m.put("ids_file", idsFile);
    m.put("rows", rows);
    m.put("target", target);
    m.put("outputs", outputsJson);
    m.put("previous_hash", previousHash);
    return m;
  }
}
