package io.poisonguard.audit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * One trained model as the audit keeps it in {@code _audit/models}: which clean table version it learnt from, with
 * which trainer, settings and seed, where it is saved, what it computes (fingerprint) and what the evaluation
 * measured. Settings and evaluation are JSON text so the table's schema stays fixed.
 *
 * @param modelId the model's id (its folder under {@code models/})
 * @param pipeline pipeline name
 * @param runId the guard run whose clean table version it trained on, or null when trained by {@code train} alone
 * @param trainedAt when training finished
 * @param trainer trainer name
 * @param modelPath the saved model folder
 * @param cleanTable the clean table's path
 * @param cleanVersion the clean table's Delta version trained on
 * @param trainRows rows trained on
 * @param testRows rows held out for the evaluation
 * @param seed seed of every random choice of the training
 * @param fingerprint SHA-256 of the classifier's outputs on fixed probe points: same model, same fingerprint
 * @param settingsJson the {@code train:} section as applied
 * @param evaluationJson the evaluation's figures
 * @param previousHash {@link #recordHash} of the previous model record of the pipeline, or empty for the first
 * @param recordHash hash over this record's fields and {@code previousHash}
 */
public record ModelRecord(String modelId, String pipeline, String runId, Instant trainedAt, String trainer,
    String modelPath, String cleanTable, long cleanVersion, long trainRows, long testRows, long seed,
    String fingerprint, String settingsJson, String evaluationJson, String previousHash, String recordHash) {

  /** Field values in table column order, the hash last; the basis of {@link #recordHash}. */
  Map<String, Object> fields() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model_id", modelId);
    m.put("pipeline", pipeline);
    m.put("run_id", runId);
    m.put("trained_at", trainedAt);
    m.put("trainer", trainer);
    m.put("model_path", modelPath);
    m.put("clean_table", cleanTable);
    m.put("clean_version", cleanVersion);
    m.put("train_rows", trainRows);
    m.put("test_rows", testRows);
    m.put("seed", seed);
    m.put("fingerprint", fingerprint);
    m.put("settings", settingsJson);
    m.put("evaluation", evaluationJson);
    m.put("previous_hash", previousHash);
    return m;
  }

  /** A record as stored in {@code _audit/models}. */
  public static ModelRecord fromRow(Row r) {
    return new ModelRecord(r.getAs("model_id"), r.getAs("pipeline"), r.getAs("run_id"),
        r.<Timestamp>getAs("trained_at").toInstant(), r.getAs("trainer"), r.getAs("model_path"),
        r.getAs("clean_table"), r.<Long>getAs("clean_version"), r.<Long>getAs("train_rows"),
        r.<Long>getAs("test_rows"), r.<Long>getAs("seed"), r.getAs("fingerprint"), r.getAs("settings"),
        r.getAs("evaluation"), r.getAs("previous_hash"), r.getAs("record_hash"));
  }

  /** Whether the stored hash matches the record's fields. */
  public boolean hashMatches() {
    return AuditLog.hash(fields()).equals(recordHash);
  }
}
