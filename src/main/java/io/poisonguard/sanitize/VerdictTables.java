package io.poisonguard.sanitize;

import io.delta.tables.DeltaTable;
import io.poisonguard.spark.Columns;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The Delta tables that hold a pipeline's records by verdict ({@code clean}, {@code staged}, {@code quarantine},
 * {@code rejected}). Each record id lives in at most one of them: writing a batch upserts its records into their
 * verdict's table and removes them from the others, one MERGE (one atomic commit) per table. A rerun of the same
 * batch therefore changes nothing but the run id, and a run killed between two commits is repaired by rerunning.
 */
public final class VerdictTables {
  private static final String MINE = "__pg_mine";
  private static final Seq<String> USING_ID = CollectionConverters.asScala(List.of(Columns.ID)).toSeq();

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
   * Writes one batch. {@code byVerdict} holds, for each verdict the batch uses, its records (all with a unique
   * {@code _pg_id}); verdicts absent from the map are left untouched, which is how a failed gate leaves
   * {@code clean} exactly as it was. Returns the Delta version each touched table is at afterwards.
   */
  public Map<Verdict, Long> write(Map<Verdict, Dataset<Row>> byVerdict) {
    Dataset<Row> allIds = null;
    for (Dataset<Row> rows : byVerdict.values()) {
      Dataset<Row> ids = rows.select(Columns.ID);
      allIds = allIds == null ? ids : allIds.union(ids);
    }
    Map<Verdict, Long> versions = new EnumMap<>(Verdict.class);
    for (Map.Entry<Verdict, Dataset<Row>> e : byVerdict.entrySet()) {
      versions.put(e.getKey(), upsert(path(e.getKey()), e.getValue(), allIds));
    }
    return versions;
  }

  private long upsert(String path, Dataset<Row> mine, Dataset<Row> allIds) {
    if (!DeltaTable.isDeltaTable(spark, path)) {
      mine.write().format("delta").mode("errorifexists").save(path);
      return 0L;
    }
    // the batch's ids that belong elsewhere are merged too, so a record that changed verdict since the last run
    // is removed from this table in the same commit that updates the rest
    Dataset<Row> source = mine.withColumn(MINE, functions.lit(true))
        .unionByName(allIds.join(mine.select(Columns.ID), USING_ID, "left_anti")
            .withColumn(MINE, functions.lit(false)), true);
    DeltaTable table = DeltaTable.forPath(spark, path);
    table.as("t").merge(source.as("s"), "t." + Columns.ID + " = s." + Columns.ID)
        .whenMatched("s." + MINE + " = false").delete()
        .whenMatched().updateAll()
        .whenNotMatched("s." + MINE + " = true").insertAll()
        .execute();
    return table.history(1).select("version").head().getLong(0);
  }

  /** Whether the verdict's table has been created. */
  public boolean exists(Verdict verdict) {
    return DeltaTable.isDeltaTable(spark, path(verdict));
  }

  /** The verdict's table as it is now. */
  public Dataset<Row> read(Verdict verdict) {
    return spark.read().format("delta").load(path(verdict));
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
