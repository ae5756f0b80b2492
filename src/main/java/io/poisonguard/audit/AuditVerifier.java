package io.poisonguard.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.tables.DeltaTable;
import io.poisonguard.sanitize.Verdict;
import io.poisonguard.sanitize.VerdictTables;
import io.poisonguard.spark.Columns;
import io.poisonguard.train.Classifiers;
import io.poisonguard.train.HardenedModel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Checks that the audit trail is whole and that it matches the data: every audit table was only ever appended to;
 * every run and release record hashes to its stored hash and links to the previous record of its pipeline; each
 * run's counts re-derive from the table versions it names (Delta time travel); each release's rows are where it
 * says; each model record hashes, chains, names a clean version that exists, and its saved classifier still
 * computes what the record's fingerprint says; and no table or report holds a run the audit has no record of.
 */
public final class AuditVerifier {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Audit tables that must be append-only. */
  private static final List<String> TABLES = List.of("runs", "profiles", "detector_stats", "metrics", "releases",
      "released_rows", "models");

  private final SparkSession spark;
  private final String warehouse;
  private final AuditLog audit;

  /** A verifier for the warehouse at {@code warehouse}. */
  public AuditVerifier(SparkSession spark, String warehouse) {
    this.spark = spark;
    this.warehouse = warehouse;
    this.audit = new AuditLog(spark, warehouse);
  }

  /**
   * What verification found: the records checked and every problem, one line each naming the record or table.
   *
   * @param runsChecked run records checked
   * @param releasesChecked release records checked
   * @param modelsChecked model records checked
   * @param problems one line per problem; empty when the audit trail holds
   */
  public record Result(int runsChecked, int releasesChecked, int modelsChecked, List<String> problems) {
    /** Whether nothing is wrong. */
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /** Verifies the whole warehouse, or (with a run id) one run, its link to the previous run and its releases. */
  public Result verify(String onlyRun) throws Exception {
    List<String> problems = new ArrayList<>();
    if (!audit.exists("runs")) {
      problems.add("no audit trail: " + audit.path("runs") + " is not a Delta table (has any run completed in "
          + warehouse + "?)");
      return new Result(0, 0, 0, problems);
    }
    for (String table : TABLES) {
      if (audit.exists(table)) {
        appendOnly(table, problems);
      }
    }
    List<RunRecord> runs = audit.runs(null).stream().map(RunRecord::fromRow).toList();
    if (onlyRun != null && runs.stream().noneMatch(r -> r.runId().equals(onlyRun))) {
      problems.add("run " + onlyRun + ": no record in " + audit.path("runs"));
      return new Result(0, 0, 0, problems);
    }
    Map<String, List<RunRecord>> byPipeline = new LinkedHashMap<>();
    runs.forEach(r -> byPipeline.computeIfAbsent(r.pipeline(), k -> new ArrayList<>()).add(r));
    int checked = 0;
    for (List<RunRecord> chain : byPipeline.values()) {
      for (int i = 0; i < chain.size(); i++) {
        RunRecord r = chain.get(i);
        if (onlyRun != null && !r.runId().equals(onlyRun)) {
          continue;
        }
        checked++;
        checkRun(r, i == 0 ? "" : chain.get(i - 1).recordHash(), problems);
      }
    }
    int releasesChecked = checkReleases(onlyRun, problems);
    int modelsChecked = checkModels(onlyRun, problems);
    if (onlyRun == null) {
      Set<String> known = new HashSet<>();
      runs.forEach(r -> known.add(r.runId()));
      for (String pipeline : byPipeline.keySet()) {
        unrecordedRuns(pipeline, known, problems);
      }
    }
    return new Result(checked, releasesChecked, modelsChecked, problems);
  }

  /**
   * Model records: hash and chain per pipeline, the clean version they name holds at least the rows they trained and
   * were tested on, and the saved classifier's fingerprint is the recorded one (a swapped model file shows here).
   */
  private int checkModels(String onlyRun, List<String> problems) throws Exception {
    Map<String, String> previousByPipeline = new LinkedHashMap<>();
    int checked = 0;
    for (ModelRecord m : new Models(spark, audit).list(null)) {
      String previous = previousByPipeline.getOrDefault(m.pipeline(), "");
      previousByPipeline.put(m.pipeline(), m.recordHash());
      if (onlyRun != null && !onlyRun.equals(m.runId())) {
        continue;
      }
      checked++;
      String name = "model " + m.modelId() + " (pipeline " + m.pipeline() + ")";
      if (!m.hashMatches()) {
        problems.add(name + ": the record does not match its hash; a field was altered after it was written");
      }
      if (!previous.equals(m.previousHash())) {
        problems.add(name + ": does not follow the previous model record of its pipeline; a record was removed");
      }
      long rows = spark.read().format("delta").option("versionAsOf", m.cleanVersion()).load(m.cleanTable()).count();
      if (rows < m.trainRows() + m.testRows()) {
        problems.add(name + ": trained on " + m.trainRows() + " and tested on " + m.testRows() + " rows but "
            + m.cleanTable() + " version " + m.cleanVersion() + " holds " + rows);
      }
      java.nio.file.Path folder = java.nio.file.Path.of(m.modelPath());
      if (!java.nio.file.Files.isDirectory(folder.resolve("classifier"))) {
        problems.add(name + ": the saved model " + m.modelPath() + " is missing");
      } else if (!HardenedModel.fingerprint(Classifiers.load(folder.resolve("classifier").toString()))
          .equals(m.fingerprint())) {
        problems.add(name + ": the classifier saved under " + m.modelPath() + " no longer computes what its record's "
            + "fingerprint says; the model was replaced or altered");
      }
    }
    return checked;
  }

  /** Every commit of an audit table must be an append: anything else rewrote the history it keeps. */
  private void appendOnly(String table, List<String> problems) {
    // one row per commit of one audit table: small
    for (Row commit : DeltaTable.forPath(spark, audit.path(table)).history()
        .select("version", "operation", "operationParameters").orderBy("version").collectAsList()) {
      String operation = commit.getString(1);
      Map<String, String> params = commit.getJavaMap(2);
      String mode = params == null ? null : params.get("mode");
      boolean append = ("WRITE".equals(operation) || "CREATE TABLE AS SELECT".equals(operation))
          && (mode == null || mode.contains("Append") || mode.contains("ErrorIfExists"));
      if (!append) {
        problems.add("audit table " + table + ": version " + commit.getLong(0) + " is a " + operation
            + (mode == null ? "" : " (" + mode + ")") + "; audit tables are append-only, so records were changed "
            + "or removed");
      }
    }
  }

  private void checkRun(RunRecord r, String previousHash, List<String> problems) throws Exception {
    String name = "run " + r.runId() + " (pipeline " + r.pipeline() + ")";
    if (!AuditLog.hash(r.fields()).equals(r.recordHash())) {
      problems.add(name + ": the record does not match its hash; a field was altered after it was written");
    }
    if (!previousHash.equals(r.previousHash())) {
      problems.add(name + ": the record does not follow the previous record of its pipeline (a record before it "
          + "was deleted or altered)");
    }
    if (r.rowsRead() != r.clean() + r.quarantined() + r.rejected()) {
      problems.add(name + ": rows read " + r.rowsRead() + " != clean " + r.clean() + " + quarantined "
          + r.quarantined() + " + rejected " + r.rejected());
    }
    if (!RunRecord.OK.equals(r.status())) {
      return;
    }
    JsonNode outputs = JSON.readTree(r.outputsJson());
    VerdictTables tables = new VerdictTables(spark, warehouse + "/" + r.pipeline());
    Verdict passed = r.accepted() ? Verdict.CLEAN : Verdict.STAGED;
    Map<Verdict, Long> expected = new LinkedHashMap<>();
    expected.put(passed, r.clean());
    expected.put(Verdict.QUARANTINE, r.quarantined());
    expected.put(Verdict.REJECTED, r.rejected());
    for (Map.Entry<Verdict, Long> e : expected.entrySet()) {
      JsonNode version = outputs.get(e.getKey().name());
      if (version == null) {
        if (e.getValue() > 0) {
          problems.add(name + ": records " + e.getValue() + " " + e.getKey().table() + " rows but names no version "
              + "of that table");
        }
        continue;
      }
      long found;
      try {
        found = tables.readAt(e.getKey(), version.asLong()).filter(Columns.col(Columns.RUN_ID).equalTo(r.runId()))
            .count();
      } catch (Exception unreadable) {
        problems.add(name + ": cannot read " + tables.path(e.getKey()) + " at version " + version.asLong()
            + " (removed or vacuumed?): " + firstLine(unreadable));
        continue;
      }
      if (found != e.getValue()) {
        problems.add(name + ": records " + e.getValue() + " " + e.getKey().table() + " rows, but version "
            + version.asLong() + " of " + tables.path(e.getKey()) + " holds " + found);
      }
    }
  }

  private int checkReleases(String onlyRun, List<String> problems) throws Exception {
    Releases releases = new Releases(spark, warehouse);
    Map<String, String> lastHash = new LinkedHashMap<>();
    int checked = 0;
    for (ReleaseRecord r : releases.releases(null)) {
      String previous = lastHash.getOrDefault(r.pipeline(), "");
      lastHash.put(r.pipeline(), r.recordHash());
      if (onlyRun != null && !r.runId().equals(onlyRun)) {
        continue;
      }
      checked++;
      String name = "release " + r.releaseId() + " of run " + r.runId();
      if (!Releases.rehash(r).equals(r.recordHash())) {
        problems.add(name + ": the record does not match its hash; a field was altered after it was written");
      }
      if (!previous.equals(r.previousHash())) {
        problems.add(name + ": the record does not follow the previous release of its pipeline (a release before "
            + "it was deleted or altered)");
      }
      Dataset<Row> ids = spark.read().format("delta").load(audit.path("released_rows"))
          .filter(functions.col("release_id").equalTo(r.releaseId())).select(Columns.ID);
      long listed = ids.count();
      if (listed != r.rows()) {
        problems.add(name + ": records " + r.rows() + " released rows but " + audit.path("released_rows")
            + " lists " + listed);
      }
      JsonNode outputs = JSON.readTree(r.outputsJson());
      VerdictTables tables = new VerdictTables(spark, warehouse + "/" + r.pipeline());
      for (Verdict v : List.of(Verdict.valueOf(r.target().toUpperCase(java.util.Locale.ROOT)), Verdict.QUARANTINE)) {
        JsonNode version = outputs.get(v.table());
        if (version == null) {
          problems.add(name + ": names no version of " + v.table());
          continue;
        }
        long present = tables.readAt(v, version.asLong()).filter(Columns.col(Columns.RUN_ID).equalTo(r.runId()))
            .join(ids, Columns.ID).count();
        long wanted = v == Verdict.QUARANTINE ? 0 : r.rows();
        if (present != wanted) {
          problems.add(name + ": version " + version.asLong() + " of " + tables.path(v) + " holds " + present
              + " of the released rows, expected " + wanted);
        }
      }
    }
    return checked;
  }

  /** Run ids stamped on a pipeline's current rows or reports that have no audit record. */
  private void unrecordedRuns(String pipeline, Set<String> known, List<String> problems) throws Exception {
    VerdictTables tables = new VerdictTables(spark, warehouse + "/" + pipeline);
    for (Verdict v : Verdict.values()) {
      if (!tables.exists(v)) {
        continue;
      }
      // distinct run ids of one table: one per run, small
      for (Row r : tables.read(v).select(Columns.RUN_ID).distinct().collectAsList()) {
        if (!r.isNullAt(0) && !known.contains(r.getString(0))) {
          problems.add("run " + r.getString(0) + ": its rows are in " + tables.path(v) + " but the audit has no "
              + "record of it (the record was deleted?)");
        }
      }
    }
    org.apache.hadoop.fs.Path reports = new org.apache.hadoop.fs.Path(warehouse + "/" + pipeline + "/reports");
    var fs = reports.getFileSystem(spark.sparkContext().hadoopConfiguration());
    if (fs.exists(reports)) {
      for (var status : fs.listStatus(reports)) {
        String run = status.getPath().getName();
        if (status.isDirectory() && !known.contains(run)) {
          problems.add("run " + run + ": its report is in " + status.getPath() + " but the audit has no record of "
              + "it (the record was deleted?)");
        }
      }
    }
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
