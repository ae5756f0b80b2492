package io.poisonguard.audit;

import io.delta.tables.DeltaTable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The warehouse's append-only audit tables under {@code _audit}: {@code runs} (one hash-chained record per run),
 * {@code profiles} (column profiles and drift), {@code detector_stats} ({@link DetectorStatistics}), {@code metrics}
 * ({@link RunMetrics}), {@code releases} and {@code released_rows} ({@link Releases}). A run record is written
 * last, after every data table it names has committed, so a run without a record did not complete.
 */
public final class AuditLog {
  /** Schema of {@code _audit/runs}. */
  public static final StructType RUNS_SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType, false)
      .add("pipeline", DataTypes.StringType, false)
      .add("pipeline_file", DataTypes.StringType)
      .add("pipeline_sha256", DataTypes.StringType)
      .add("started_at", DataTypes.TimestampType)
      .add("finished_at", DataTypes.TimestampType)
      .add("status", DataTypes.StringType)
      .add("rows_read", DataTypes.LongType)
      .add("clean", DataTypes.LongType)
      .add("quarantined", DataTypes.LongType)
      .add("rejected", DataTypes.LongType)
      .add("gate", DataTypes.StringType)
      .add("gate_reasons", DataTypes.createArrayType(DataTypes.StringType))
      .add("inputs", DataTypes.StringType)
      .add("outputs", DataTypes.StringType)
      .add("drift", DataTypes.StringType)
      .add("timings", DataTypes.StringType)
      .add("software", DataTypes.StringType)
      .add("seed", DataTypes.LongType)
      .add("previous_hash", DataTypes.StringType)
      .add("record_hash", DataTypes.StringType);

  private final SparkSession spark;
  private final String root;

  /** The audit tables under {@code warehouse/_audit}. */
  public AuditLog(SparkSession spark, String warehouse) {
    this.spark = spark;
    this.root = warehouse + "/_audit";
  }

  /** Path of an audit table, e.g. {@code runs} or {@code profiles}. */
  public String path(String table) {
    return root + "/" + table;
  }

  /** Whether the audit table exists (a warehouse without runs has none). */
  public boolean exists(String table) {
    return DeltaTable.isDeltaTable(spark, path(table));
  }

  /** The run record of {@code runId}, if there is one. */
  public Optional<Row> run(String runId) {
    if (!exists("runs")) {
      return Optional.empty();
    }
    // at most two audit rows come back (two mean the table was tampered with)
    List<Row> found = spark.read().format("delta").load(path("runs"))
        .filter(functions.col("run_id").equalTo(runId)).limit(2).collectAsList();
    if (found.size() > 1) {
      throw new IllegalStateException("audit table " + path("runs") + " holds two records of run " + runId
          + "; run 'poisonguard audit verify' to see what else is wrong");
    }
    return found.stream().findFirst();
  }

  /** Every run record, of one pipeline or (null) of all, oldest first: one small row per run, never data. */
  public List<Row> runs(String pipeline) {
    if (!exists("runs")) {
      return List.of();
    }
    Dataset<Row> runs = spark.read().format("delta").load(path("runs"));
    if (pipeline != null) {
      runs = runs.filter(functions.col("pipeline").equalTo(pipeline));
    }
    // audit rows, one per run: they grow with the number of runs, not with the data
    return runs.orderBy(functions.col("finished_at"), functions.col("run_id")).collectAsList();
  }

  /** Hash of the latest record of {@code pipeline}, or empty when it has none. */
  public String lastHash(String pipeline) {
    return newest(pipeline, false, 1).stream().findFirst().map(r -> r.<String>getAs("record_hash")).orElse("");
  }

  /** Id of the latest run of {@code pipeline} whose batch was accepted (pass or warn), if any. */
  public Optional<String> lastAcceptedRun(String pipeline) {
    return acceptedRuns(pipeline, 1).stream().findFirst().map(r -> r.<String>getAs("run_id"));
  }

  /** The records of the newest {@code limit} runs of {@code pipeline} whose batch was accepted, newest first. */
  public List<Row> acceptedRuns(String pipeline, int limit) {
    return newest(pipeline, true, limit);
  }

  private List<Row> newest(String pipeline, boolean acceptedOnly, int limit) {
    String path = path("runs");
    if (!DeltaTable.isDeltaTable(spark, path)) {
      return List.of();
    }
    Dataset<Row> runs = spark.read().format("delta").load(path)
        .filter(functions.col("pipeline").equalTo(pipeline));
    if (acceptedOnly) {
      runs = runs.filter(functions.col("gate").isin("pass", "warn")
          .and(functions.col("status").equalTo(RunRecord.OK)));
    }
    // one row per run of one pipeline: small, and only the newest few are brought back
    return runs.orderBy(functions.col("finished_at").desc(), functions.col("run_id").desc())
        .limit(limit).collectAsList();
  }

  /** Computes the record's hash (chained to {@code previousHash}) and appends it; returns the hashed record. */
  public RunRecord append(RunRecord record) {
    RunRecord hashed = new RunRecord(record.runId(), record.pipeline(), record.pipelineFile(),
        record.pipelineSha256(), record.startedAt(), record.finishedAt(), record.status(), record.rowsRead(),
        record.clean(), record.quarantined(), record.rejected(), record.gate(), record.gateReasons(),
        record.inputsJson(), record.outputsJson(), record.driftJson(), record.timingsJson(), record.softwareJson(),
        record.seed(), record.previousHash(), hash(record.fields()));
    appendChained("runs", RUNS_SCHEMA, hashed.fields(), hashed.recordHash());
    return hashed;
  }

  /**
   * Appends one hash-chained record: {@code fields} in the table's column order, then its {@code recordHash}
   * (computed by {@link #hash} over those fields, the previous record's hash among them).
   */
  void appendChained(String table, StructType schema, Map<String, Object> fields, String recordHash) {
    List<Object> values = new ArrayList<>();
    for (Object v : fields.values()) {
      values.add(v instanceof java.time.Instant i ? Timestamp.from(i)
          : v instanceof List<?> l ? scala.jdk.javaapi.CollectionConverters.asScala(l).toSeq() : v);
    }
    values.add(recordHash);
    spark.createDataFrame(List.of(RowFactory.create(values.toArray())), schema).coalesce(1).write()
        .format("delta").mode("append").save(path(table));
  }

  /** Appends rows to an audit table such as {@code profiles} (a metrics history, one row per run and metric). */
  public void appendRows(String table, Dataset<Row> rows) {
    rows.coalesce(1).write().format("delta").mode("append").option("mergeSchema", "true").save(path(table));
  }

  /** Rows of an audit table for one run (none when the table does not exist); small: one run's metrics. */
  public Dataset<Row> rowsOfRun(String table, String runId) {
    if (!exists(table)) {
      return spark.emptyDataFrame();
    }
    return spark.read().format("delta").load(path(table)).filter(functions.col("run_id").equalTo(runId));
  }

  /**
   * SHA-256 over the record's fields in a fixed order and text form. Audit verification recomputes it from the
   * stored row, so the text form must not depend on anything but the values.
   */
  public static String hash(Map<String, Object> fields) {
    StringBuilder text = new StringBuilder();
    fields.forEach((k, v) -> text.append(k).append('=').append(v instanceof java.time.Instant i ? i.toEpochMilli()
        : String.valueOf(v)).append('\n'));
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
