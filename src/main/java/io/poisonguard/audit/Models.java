package io.poisonguard.audit;

import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** {@code _audit/models}: one hash-chained record per trained model, per pipeline. */
public final class Models {
  /** Schema of {@code _audit/models}. */
  public static final StructType SCHEMA = new StructType()
      .add("model_id", DataTypes.StringType, false)
      .add("pipeline", DataTypes.StringType, false)
      .add("run_id", DataTypes.StringType)
      .add("trained_at", DataTypes.TimestampType, false)
      .add("trainer", DataTypes.StringType, false)
      .add("model_path", DataTypes.StringType, false)
      .add("clean_table", DataTypes.StringType, false)
      .add("clean_version", DataTypes.LongType, false)
      .add("train_rows", DataTypes.LongType, false)
      .add("test_rows", DataTypes.LongType, false)
      .add("seed", DataTypes.LongType, false)
      .add("fingerprint", DataTypes.StringType, false)
      .add("settings", DataTypes.StringType)
      .add("evaluation", DataTypes.StringType)
      .add("previous_hash", DataTypes.StringType)
      .add("record_hash", DataTypes.StringType);
  private static final String TABLE = "models";

  private final SparkSession spark;
  private final AuditLog audit;

  /** The model records of the warehouse {@code audit} keeps. */
  public Models(SparkSession spark, AuditLog audit) {
    this.spark = spark;
    this.audit = audit;
  }

  /** Every model record of {@code pipeline} (or of all, null), oldest first: one small row per model. */
  public List<ModelRecord> list(String pipeline) {
    if (!audit.exists(TABLE)) {
      return List.of();
    }
    var rows = spark.read().format("delta").load(audit.path(TABLE));
    if (pipeline != null) {
      rows = rows.filter(functions.col("pipeline").equalTo(pipeline));
    }
    // one small row per trained model
    return rows.orderBy("trained_at", "model_id").collectAsList().stream().map(ModelRecord::fromRow).toList();
  }

  /** Records of the models trained on the clean table a guard run wrote. */
  public List<ModelRecord> ofRun(String runId) {
    return list(null).stream().filter(m -> runId.equals(m.runId())).toList();
  }

  /** Chains {@code record} to the pipeline's latest model record, hashes and appends it; returns it hashed. */
  public ModelRecord append(ModelRecord record) {
    List<ModelRecord> previous = list(record.pipeline());
    String previousHash = previous.isEmpty() ? "" : previous.get(previous.size() - 1).recordHash();
    ModelRecord chained = new ModelRecord(record.modelId(), record.pipeline(), record.runId(), record.trainedAt(),
        record.trainer(), record.modelPath(), record.cleanTable(), record.cleanVersion(), record.trainRows(),
        record.testRows(), record.seed(), record.fingerprint(), record.settingsJson(), record.evaluationJson(),
        previousHash, null);
    ModelRecord hashed = new ModelRecord(chained.modelId(), chained.pipeline(), chained.runId(), chained.trainedAt(),
        chained.trainer(), chained.modelPath(), chained.cleanTable(), chained.cleanVersion(), chained.trainRows(),
        chained.testRows(), chained.seed(), chained.fingerprint(), chained.settingsJson(), chained.evaluationJson(),
        previousHash, AuditLog.hash(chained.fields()));
    audit.appendChained(TABLE, SCHEMA, hashed.fields(), hashed.recordHash());
    return hashed;
  }
}
