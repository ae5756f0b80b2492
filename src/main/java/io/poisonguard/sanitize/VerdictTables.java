package io.poisonguard.sanitize;

import io.delta.tables.DeltaTable;
import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The Delta tables that hold a pipeline's records by verdict ({@code clean}, {@code staged}, {@code quarantine},
 * {@code rejected}). Each record id lives in at most one of them: writing a batch upserts its records into their
 * verdict's table and removes them from the others, one MERGE (one atomic commit) per table, {@code clean} last. A
 * rerun of the same batch therefore changes nothing but the run id, and a run killed between two commits is repaired
 * by rerunning.
 */
public final class VerdictTables {
  private static final String MINE = "__pg_mine";
  /** Parquet's per-column switch of dictionary encoding, followed by the column's name. */
  private static final String DICTIONARY_KEY = "parquet.enable.dictionary#";
  private static final Seq<String> USING_ID = CollectionConverters.asScala(List.of(Columns.ID)).toSeq();
  /**
   * {@code clean}, the table models are trained from, is committed last: a write that fails part way (a full disk, a
   * table another tool changed) leaves it as it was, so no consumer of {@code clean} sees part of a batch whose
   * other records are not where they belong. The rerun that repairs the rest then adds the batch to it in one commit.
   */
  private static final List<Verdict> WRITE_ORDER =
      List.of(Verdict.REJECTED, Verdict.QUARANTINE, Verdict.STAGED, Verdict.CLEAN);

  private final SparkSession spark;
  private final String root;

  /** Tables under {@code root} (the pipeline's warehouse folder). */
  public VerdictTables(SparkSession spark, String root) {
    this.spark = spark;
    this.root = root;
  }

  /** Path of a verdict's table. */
  public String path(Verdict verdict) {
    return root + "/" + verdict.table();
  }

  /**
   * What one commit of {@link #write} left in a verdict's table.
   *
   * @param version the Delta version the table is at afterwards
   * @param batchRows rows of the batch the table holds afterwards, as the commit's own metrics in the Delta log
   *     record them (rows written by a create, rows inserted plus rows updated by a merge); −1 when the log holds no
   *     such metrics (they can be switched off, {@code spark.databricks.delta.history.metricsEnabled})
   */
  public record Commit(long version, long batchRows) {}

  /**
   * Writes one batch. {@code byVerdict} holds, for each verdict the batch uses, its records (all with a unique
   * {@code _pg_id}). A verdict absent from the map gets none of the batch's records, which is how a failed gate
   * adds nothing to {@code clean}; its table only loses the batch's records an earlier run of the same batch left
   * there (a rerun that now fails the gate takes them out of {@code clean}, one that now passes out of
   * {@code staged}), and gets no commit when it holds none. Returns the commit each changed table got.
   */
  public Map<Verdict, Commit> write(Map<Verdict, Dataset<Row>> byVerdict) {
    return write(byVerdict, Set.of());
  }

  /**
   * {@link #write(Map)}, with the batch's columns named in {@code plainColumns} written without Parquet's dictionary
   * encoding (see {@link PlainEncoding}), as the guard's scores and {@code _pg_id} always are.
   */
  public Map<Verdict, Commit> write(Map<Verdict, Dataset<Row>> byVerdict, Set<String> plainColumns) {
    Dataset<Row> allIds = null;
    Set<String> plain = new TreeSet<>();
    for (Dataset<Row> rows : byVerdict.values()) {
      Dataset<Row> ids = rows.select(Columns.ID);
      allIds = allIds == null ? ids : allIds.union(ids);
      plain.addAll(plainColumns(rows, plainColumns));
    }
    Map<String, String> previous = new LinkedHashMap<>();
    for (String column : plain) {
      String key = DICTIONARY_KEY + column;
      previous.put(key, spark.conf().get(key, null));
      spark.conf().set(key, "false");
    }
    try {
      Map<Verdict, Commit> commits = new EnumMap<>(Verdict.class);
      for (Verdict verdict : WRITE_ORDER) {
        if (byVerdict.containsKey(verdict)) {
          commits.put(verdict, upsert(path(verdict), byVerdict.get(verdict), allIds));
        } else if (exists(verdict)) {
          Commit withdrawn = withdraw(path(verdict), allIds);
          if (withdrawn != null) {
            commits.put(verdict, withdrawn);
          }
        }
      }
      return commits;
    } finally {
      // the session's later writes (audit tables, another pipeline's) keep Parquet's defaults
      previous.forEach((key, value) -> {
        if (value == null) {
          spark.conf().unset(key);
        } else {
          spark.conf().set(key, value);
        }
      });
    }
  }

  /**
   * The columns of {@code rows} written without a dictionary: the {@code requested} ones it has, {@code _pg_id}
   * (unique in every table, so its dictionary is always dropped), and the guard's scores. Scores are continuous,
   * nearly one distinct value per row, so the dictionary a column chunk starts with is thrown away when the chunk
   * closes, after every value went through its hash map: in a flight recording of the 1M-row guard (bench/profile,
   * JFR=1) the dictionaries of its 41 double columns held 27% of the samples of the clean table's write; 9 of those
   * columns are scores. Parquet reads this per column from the write's Hadoop configuration, which the session's
   * settings feed.
   */
  private static Set<String> plainColumns(Dataset<Row> rows, Set<String> requested) {
    Set<String> plain = new TreeSet<>();
    for (StructField field : rows.schema().fields()) {
      String name = field.name();
      boolean score = field.dataType().equals(DataTypes.DoubleType)
          && (name.equals(Columns.POISON_SCORE) || name.startsWith(Columns.PREFIX + "score_"));
      if (score || name.equals(Columns.ID) || requested.contains(name)) {
        plain.add(name);
      }
    }
    return plain;
  }

  /** The Delta version of each commit: what a run or a release records as its outputs. */
  public static Map<Verdict, Long> versions(Map<Verdict, Commit> commits) {
    Map<Verdict, Long> versions = new EnumMap<>(Verdict.class);
    commits.forEach((verdict, commit) -> versions.put(verdict, commit.version()));
    return versions;
  }

  private Commit upsert(String path, Dataset<Row> mine, Dataset<Row> allIds) {
    if (!DeltaTable.isDeltaTable(spark, path)) {
      mine.write().format("delta").mode("errorifexists").save(path);
      return lastCommit(path, -1, "WRITE", "numOutputRows");
    }
    // the batch's ids that belong elsewhere are merged too, so a record that changed verdict since the last run
    // is removed from this table in the same commit that updates the rest
    // The guard's own columns follow the detectors that ran: a score column new to the table is added to it first,
    // one this run has not got is written empty. The input's columns were checked before the run
    // (columnsDifferingFrom), so only the guard's columns can differ here.
    StructType existing = read(path).schema();
    List<String> added = new ArrayList<>();
    for (StructField field : mine.schema().fields()) {
      if (!List.of(existing.fieldNames()).contains(field.name())) {
        added.add("`" + field.name() + "` " + field.dataType().sql());
      }
    }
    if (!added.isEmpty()) {
      spark.sql("ALTER TABLE delta.`" + path + "` ADD COLUMNS (" + String.join(", ", added) + ")");
    }
    Dataset<Row> aligned = mine;
    for (StructField field : existing.fields()) {
      if (!List.of(mine.columns()).contains(field.name())) {
        aligned = aligned.withColumn(field.name(), functions.lit(null).cast(field.dataType()));
      }
    }
    Dataset<Row> source = aligned.withColumn(MINE, functions.lit(true))
        .unionByName(allIds.join(mine.select(Columns.ID), USING_ID, "left_anti")
            .withColumn(MINE, functions.lit(false)), true);
    DeltaTable table = DeltaTable.forPath(spark, path);
    long before = newest(table).getLong(0);
    table.as("t").merge(source.as("s"), "t." + Columns.ID + " = s." + Columns.ID)
        .whenMatched("s." + MINE + " = false").delete()
        .whenMatched().updateAll()
        .whenNotMatched("s." + MINE + " = true").insertAll()
        .execute();
    // a matched row of the batch is updated in place, an unmatched one inserted: together, the batch's rows here
    return lastCommit(path, before, "MERGE", "numTargetRowsInserted", "numTargetRowsUpdated");
  }

  /**
   * Deletes the batch's ids from a table the batch has no records for. Returns its commit (none of the batch's rows
   * left there), or null when the table held none of them: Delta then writes no new version.
   */
  private Commit withdraw(String path, Dataset<Row> allIds) {
    DeltaTable table = DeltaTable.forPath(spark, path);
    long before = newest(table).getLong(0);
    table.as("t").merge(allIds.as("s"), "t." + Columns.ID + " = s." + Columns.ID).whenMatched().delete().execute();
    Commit commit = lastCommit(path, before, "MERGE");
    return commit.version() == before ? null : new Commit(commit.version(), 0);
  }

  /**
   * The table's newest commit after one of {@code operation} that found it at version {@code before} (−1: no
   * table): its version, and the sum of the named operation metrics. No new version means the operation changed
   * nothing, so the table holds none of the batch's rows; a newest commit of another operation (a concurrent
   * writer's) or without the metrics gives −1 rows.
   */
  private Commit lastCommit(String path, long before, String operation, String... rowMetrics) {
    Row last = newest(DeltaTable.forPath(spark, path));
    long version = last.getLong(0);
    if (version == before) {
      return new Commit(version, 0);
    }
    if (!operation.equals(last.getString(1)) || last.isNullAt(2)) {
      return new Commit(version, -1);
    }
    Map<String, String> metrics = last.getJavaMap(2);
    long rows = 0;
    for (String metric : rowMetrics) {
      String value = metrics.get(metric);
      if (value == null) {
        return new Commit(version, -1);
      }
      rows += Long.parseLong(value);
    }
    return new Commit(version, rows);
  }

  /** The newest commit's version, operation and operation metrics (one entry of the Delta log). */
  private static Row newest(DeltaTable table) {
    return table.history(1).select("version", "operation", "operationMetrics").head();
  }

  /**
   * The input columns (not the guard's own) where {@code batch} differs from the batch tables written before it:
   * one line per column missing from the batch, new in it, or of another type, naming the table; empty when they
   * agree or nothing was written yet. Read from the tables' logs, no data.
   */
  public List<String> columnsDifferingFrom(StructType batch) {
    for (Verdict verdict : List.of(Verdict.CLEAN, Verdict.STAGED, Verdict.QUARANTINE)) {
      if (exists(verdict)) {
        return columnDifferences(read(path(verdict)).schema(), batch, verdict.table());
      }
    }
    return List.of();
  }

  private static List<String> columnDifferences(StructType table, StructType batch, String tableName) {
    List<String> differences = new ArrayList<>();
    for (StructField field : table.fields()) {
      if (field.name().startsWith(Columns.PREFIX)) {
        continue;
      }
      if (!List.of(batch.fieldNames()).contains(field.name())) {
        differences.add("column '" + field.name() + "' is in the " + tableName + " table but not in this batch");
      } else if (!batch.apply(field.name()).dataType().equals(field.dataType())) {
        differences.add("column '" + field.name() + "' is " + kind(field.dataType()) + " in the " + tableName
            + " table but " + kind(batch.apply(field.name()).dataType()) + " in this batch");
      }
    }
    for (StructField field : batch.fields()) {
      if (!field.name().startsWith(Columns.PREFIX) && !List.of(table.fieldNames()).contains(field.name())) {
        differences.add("column '" + field.name() + "' is new in this batch, not in the " + tableName + " table");
      }
    }
    return differences;
  }

  private static String kind(DataType type) {
    return type.equals(DataTypes.StringType) ? "text" : "numeric";
  }

  /** Whether the verdict's table has been created. */
  public boolean exists(Verdict verdict) {
    return DeltaTable.isDeltaTable(spark, path(verdict));
  }

  /** The verdict's table as it is now. */
  public Dataset<Row> read(Verdict verdict) {
    return read(path(verdict));
  }

  private Dataset<Row> read(String path) {
    return spark.read().format("delta").load(path);
  }

  /** The verdict's table as it was at {@code version} (Delta time travel). */
  public Dataset<Row> readAt(Verdict verdict, long version) {
    return spark.read().format("delta").option("versionAsOf", version).load(path(verdict));
  }

  /** Rows of a verdict's table stamped with {@code runId}, or 0 when the table does not exist. */
  public long countForRun(Verdict verdict, String runId) {
    String path = path(verdict);
    if (!DeltaTable.isDeltaTable(spark, path)) {
      return 0;
    }
    return spark.read().format("delta").load(path).filter(Columns.col(Columns.RUN_ID).equalTo(runId)).count();
  }
}
