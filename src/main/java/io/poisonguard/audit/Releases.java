package io.poisonguard.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.config.ConfigException;
import io.poisonguard.sanitize.Verdict;
import io.poisonguard.sanitize.VerdictTables;
import io.poisonguard.spark.Columns;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The release workflow: a reviewer moves quarantined rows of one run back to the table the run's accepted rows
 * went to, with a reason. The rows keep their run id, scores and reasons (the evidence they were held on) and lose
 * the flag. The release is recorded in {@code _audit/releases} (hash-chained per pipeline like the runs) and its
 * ids in {@code _audit/released_rows}.
 *
 * <p>Order of commits: released ids, then the target table, then quarantine, then the record. The release id is
 * derived from the run, the ids and the reason, so rerunning an interrupted release finishes it, and rerunning a
 * finished one changes nothing.
 */
public final class Releases {
  /** Schema of {@code _audit/releases}. */
  public static final StructType SCHEMA = new StructType()
      .add("release_id", DataTypes.StringType, false)
      .add("pipeline", DataTypes.StringType, false)
      .add("run_id", DataTypes.StringType, false)
      .add("released_at", DataTypes.TimestampType, false)
      .add("reviewer", DataTypes.StringType)
      .add("reason", DataTypes.StringType, false)
      .add("ids_file", DataTypes.StringType)
      .add("rows", DataTypes.LongType, false)
      .add("target", DataTypes.StringType, false)
      .add("outputs", DataTypes.StringType)
      .add("previous_hash", DataTypes.StringType)
      .add("record_hash", DataTypes.StringType);

  private static final ObjectMapper JSON = new ObjectMapper();
  /** Missing ids named in the error message; the count says how many there are in all. */
  private static final int SHOWN_MISSING = 5;

  private final SparkSession spark;
  private final String warehouse;
  private final AuditLog audit;

  /** Releases in the warehouse at {@code warehouse}. */
  public Releases(SparkSession spark, String warehouse) {
    this.spark = spark;
    this.warehouse = warehouse;
    this.audit = new AuditLog(spark, warehouse);
  }

  /** What a release did: its record, and whether this call made it (false: it had been recorded before). */
  public record Outcome(ReleaseRecord record, boolean made) {}

  /**
   * Releases the rows whose {@code _pg_id} is listed in {@code idsFile} (one per line; blank lines and lines
   * starting with {@code #} are skipped) from the quarantine of {@code runId}. Every listed id must be a quarantined
   * row of that run, or nothing is released.
   */
  public Outcome release(String runId, String idsFile, String reason, String reviewer) throws Exception {
    if (reason == null || reason.isBlank()) {
      throw new ConfigException("release: --reason is required: say who reviewed the rows and why they are safe");
    }
    Row run = audit.run(runId).orElseThrow(() -> new ConfigException("release: no run " + runId + " in "
        + audit.path("runs") + "; 'poisonguard audit list' shows the runs"));
    String pipeline = run.getAs("pipeline");
    boolean accepted = List.of("pass", "warn").contains(run.<String>getAs("gate"));
    Verdict target = accepted ? Verdict.CLEAN : Verdict.STAGED;
    VerdictTables tables = new VerdictTables(spark, warehouse + "/" + pipeline);

    Path file = new Path(idsFile);
    if (!file.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(file)) {
      throw new ConfigException("release: ids file " + idsFile + " does not exist; give a file with one _pg_id "
          + "per line (the _pg_id column of the quarantine table or of an audit export)");
    }
    Dataset<Row> ids = spark.read().text(idsFile).select(functions.trim(functions.col("value")).as(Columns.ID))
        .where(functions.length(functions.col(Columns.ID)).gt(0)
            .and(functions.not(functions.col(Columns.ID).startsWith("#"))))
        .distinct().cache();
    try {
      Row digest = ids.agg(functions.count(functions.lit(1)),
          functions.sum(functions.pmod(functions.xxhash64(functions.col(Columns.ID), functions.lit(1L)),
              functions.lit(1L << 31))),
          functions.sum(functions.pmod(functions.xxhash64(functions.col(Columns.ID), functions.lit(2L)),
              functions.lit(1L << 31)))).head();
      long listed = digest.getLong(0);
      if (listed == 0) {
        throw new ConfigException("release: ids file " + idsFile + " lists no ids; give one _pg_id per line");
      }
      Map<String, Object> identity = new LinkedHashMap<>();
      identity.put("run", runId);
      identity.put("reason", reason);
      identity.put("ids", listed + ":" + digest.get(1) + ":" + digest.get(2));
      String releaseId = "rel-" + AuditLog.hash(identity).substring(0, 16);
      Optional<Row> existing = existingRecord(releaseId);
      if (existing.isPresent()) {
        return new Outcome(toRecord(existing.get()), false);
      }

      if (!tables.exists(Verdict.QUARANTINE)) {
        throw new ConfigException("release: pipeline " + pipeline + " has no quarantine table under " + warehouse
            + "; nothing of run " + runId + " can be released");
      }
      Dataset<Row> quarantined = tables.read(Verdict.QUARANTINE).filter(Columns.col(Columns.RUN_ID).equalTo(runId));
      Dataset<Row> recorded = audit.exists("released_rows")
          ? spark.read().format("delta").load(audit.path("released_rows"))
              .filter(functions.col("release_id").equalTo(releaseId)).select(Columns.ID)
          : ids.limit(0);
      Dataset<Row> known = quarantined.select(Columns.ID).union(recorded);
      Dataset<Row> missing = ids.join(known, ids.col(Columns.ID).equalTo(known.col(Columns.ID)), "left_anti");
      long missingCount = missing.count();
      if (missingCount > 0 && audit.exists("released_rows")) {
        Dataset<Row> earlier = spark.read().format("delta").load(audit.path("released_rows"))
            .filter(functions.col("run_id").equalTo(runId));
        // a few release ids with counts come back
        List<Row> before = missing.join(earlier, missing.col(Columns.ID).equalTo(earlier.col(Columns.ID)))
            .groupBy("release_id").count().orderBy("release_id").limit(SHOWN_MISSING).collectAsList();
        if (!before.isEmpty()) {
          throw new ConfigException("release: id(s) in " + idsFile + " were already released from run " + runId
              + " by " + String.join(", ", before.stream().map(r -> r.getString(0) + " (" + r.getLong(1)
              + " of them)").toList()) + "; remove them from the file and rerun");
        }
      }
      if (missingCount > 0) {
        // the first few ids only, for the message
        List<String> shown = missing.orderBy(Columns.ID).limit(SHOWN_MISSING).collectAsList().stream()
            .map(r -> r.getString(0)).toList();
        throw new ConfigException("release: " + missingCount + " id(s) in " + idsFile + " are not quarantined rows "
            + "of run " + runId + " (e.g. " + String.join(", ", shown) + "); remove them from the file and rerun");
      }

      if (recorded.isEmpty()) {
        audit.appendRows("released_rows", ids.select(functions.lit(releaseId).as("release_id"),
            functions.lit(runId).as("run_id"), functions.col(Columns.ID)));
      }
      Dataset<Row> moving = quarantined.join(ids, quarantined.col(Columns.ID).equalTo(ids.col(Columns.ID)),
              "left_semi")
          .withColumn(Columns.FLAGGED, functions.lit(false))
          // fixed before the writes: both commits must move the same rows, whatever they do to quarantine (a cache
          // could be evicted and recomputed after the first commit). The checkpoint holds only the reviewed rows
          // and stays in the block manager until the session ends.
          .localCheckpoint(true);
      Map<Verdict, Dataset<Row>> byVerdict = new EnumMap<>(Verdict.class);
      byVerdict.put(target, moving);
      byVerdict.put(Verdict.QUARANTINE, moving.limit(0));
      Map<Verdict, Long> versions = VerdictTables.versions(tables.write(byVerdict));
      Map<String, Long> outputs = new LinkedHashMap<>();
      versions.forEach((v, version) -> outputs.put(v.table(), version));

      ReleaseRecord record = new ReleaseRecord(releaseId, pipeline, runId,
          Instant.now().truncatedTo(ChronoUnit.MILLIS), reviewer, reason, idsFile, listed, target.table(),
          JSON.writeValueAsString(outputs), lastHash(pipeline), null);
      return new Outcome(append(record), true);
    } finally {
      ids.unpersist();
    }
  }

  /** Every release record, of one pipeline or (null) of all, oldest first: one small row per release. */
  public List<ReleaseRecord> releases(String pipeline) {
    if (!audit.exists("releases")) {
      return List.of();
    }
    Dataset<Row> rows = spark.read().format("delta").load(audit.path("releases"));
    if (pipeline != null) {
      rows = rows.filter(functions.col("pipeline").equalTo(pipeline));
    }
    // audit rows, one per release
    return rows.orderBy("released_at", "release_id").collectAsList().stream().map(Releases::toRecord).toList();
  }

  /** Recomputes a stored record's hash from its fields, as {@code audit verify} does. */
  public static String rehash(ReleaseRecord r) {
    return AuditLog.hash(r.fields());
  }

  private Optional<Row> existingRecord(String releaseId) {
    if (!audit.exists("releases")) {
      return Optional.empty();
    }
    // one audit row at most
    return spark.read().format("delta").load(audit.path("releases"))
        .filter(functions.col("release_id").equalTo(releaseId)).limit(1).collectAsList().stream().findFirst();
  }

  private String lastHash(String pipeline) {
    List<ReleaseRecord> all = releases(pipeline);
    return all.isEmpty() ? "" : all.get(all.size() - 1).recordHash();
  }

  private ReleaseRecord append(ReleaseRecord record) {
    ReleaseRecord hashed = new ReleaseRecord(record.releaseId(), record.pipeline(), record.runId(),
        record.releasedAt(), record.reviewer(), record.reason(), record.idsFile(), record.rows(), record.target(),
        record.outputsJson(), record.previousHash(), AuditLog.hash(record.fields()));
    audit.appendChained("releases", SCHEMA, hashed.fields(), hashed.recordHash());
    return hashed;
  }

  private static ReleaseRecord toRecord(Row r) {
    return new ReleaseRecord(r.getAs("release_id"), r.getAs("pipeline"), r.getAs("run_id"),
        r.<Timestamp>getAs("released_at").toInstant(), r.getAs("reviewer"), r.getAs("reason"), r.getAs("ids_file"),
        r.<Long>getAs("rows"), r.getAs("target"), r.getAs("outputs"), r.getAs("previous_hash"),
        r.getAs("record_hash"));
  }
}
