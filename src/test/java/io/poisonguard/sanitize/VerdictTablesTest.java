package io.poisonguard.sanitize;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verdict tables' commits on real Delta tables: each commit's count of the batch's rows, which the run's
 * accounting check sums, must equal the rows stamped with the run that a read of the table finds, on a first write,
 * on a rerun and when rows change verdict.
 */
@ExtendWith(SharedSpark.class)
class VerdictTablesTest {
  private static final StructType SCHEMA = new StructType().add(Columns.ID, DataTypes.StringType)
      .add(Columns.RUN_ID, DataTypes.StringType).add("x", DataTypes.DoubleType);

  private static Dataset<Row> rows(SparkSession spark, String runId, String... ids) {
    return spark.createDataFrame(java.util.Arrays.stream(ids).map(id -> RowFactory.create(id, runId,
        (double) id.hashCode())).toList(), SCHEMA);
  }

  private static Map<Verdict, Dataset<Row>> batch(SparkSession spark, String runId, List<String> clean,
      List<String> quarantined) {
    Map<Verdict, Dataset<Row>> byVerdict = new EnumMap<>(Verdict.class);
    byVerdict.put(Verdict.CLEAN, rows(spark, runId, clean.toArray(new String[0])));
    byVerdict.put(Verdict.QUARANTINE, rows(spark, runId, quarantined.toArray(new String[0])));
    byVerdict.put(Verdict.REJECTED, rows(spark, runId));
    return byVerdict;
  }

  /** Every commit's batch rows against a count of the run's rows in its table, and the version it names. */
  private static void assertCommitsMatchTables(VerdictTables tables, Map<Verdict, VerdictTables.Commit> commits,
      String runId, long cleanRows, long quarantinedRows) {
    assertEquals(Map.of(Verdict.CLEAN, cleanRows, Verdict.QUARANTINE, quarantinedRows, Verdict.REJECTED, 0L),
        Map.of(Verdict.CLEAN, tables.countForRun(Verdict.CLEAN, runId),
            Verdict.QUARANTINE, tables.countForRun(Verdict.QUARANTINE, runId),
            Verdict.REJECTED, tables.countForRun(Verdict.REJECTED, runId)), "rows read back from the tables");
    commits.forEach((verdict, commit) -> {
      assertEquals(tables.countForRun(verdict, runId), commit.batchRows(), verdict + ": the commit's count");
      assertEquals(commit.version(), io.delta.tables.DeltaTable.forPath(SharedSpark.session(), tables.path(verdict))
          .history(1).select("version").head().getLong(0), verdict + ": the commit's version");
    });
  }

  @Test
  void commitsCountTheBatchRowsTheyLeaveInEachTable(SparkSession spark, @TempDir Path dir) {
    VerdictTables tables = new VerdictTables(spark, dir.toString());

    Map<Verdict, VerdictTables.Commit> first = tables.write(batch(spark, "r1", List.of("a", "b", "c", "d"),
        List.of("e")));
    assertCommitsMatchTables(tables, first, "r1", 4, 1);
    assertEquals(0L, first.get(Verdict.CLEAN).version(), "created");

    // the same batch again: every row is matched and updated in place
    Map<Verdict, VerdictTables.Commit> rerun = tables.write(batch(spark, "r2", List.of("a", "b", "c", "d"),
        List.of("e")));
    assertCommitsMatchTables(tables, rerun, "r2", 4, 1);
    assertEquals(4L, spark.read().format("delta").load(tables.path(Verdict.CLEAN)).count(), "no row added");

    // b moves to quarantine and e back to clean; f is new; a and d are not in this batch and stay as they were
    Map<Verdict, VerdictTables.Commit> moved = tables.write(batch(spark, "r3", List.of("c", "e", "f"),
        List.of("b")));
    assertCommitsMatchTables(tables, moved, "r3", 3, 1);
    assertEquals(5L, spark.read().format("delta").load(tables.path(Verdict.CLEAN)).count(), "a, c, d, e, f");
    assertEquals(List.of("b"), spark.read().format("delta").load(tables.path(Verdict.QUARANTINE))
        .select(Columns.ID).as(org.apache.spark.sql.Encoders.STRING()).collectAsList());
  }

  @Test
  void aRerunThatChangesTheGateMovesTheBatchBetweenCleanAndStaged(SparkSession spark, @TempDir Path dir) {
    VerdictTables tables = new VerdictTables(spark, dir.toString());
    tables.write(batch(spark, "r1", List.of("a", "b", "c"), List.of("d")));
    tables.write(batch(spark, "r0", List.of("x"), List.of()));

    // the same batch, now failing the gate: what passed goes to staged, and the batch leaves clean (x stays)
    Map<Verdict, VerdictTables.Commit> failed = tables.write(failedGate(spark, "r2", List.of("a", "b"), List.of("c",
        "d")));
    assertEquals(List.of("x"), ids(tables, Verdict.CLEAN));
    assertEquals(List.of("a", "b"), ids(tables, Verdict.STAGED));
    assertEquals(List.of("c", "d"), ids(tables, Verdict.QUARANTINE));
    assertEquals(0L, failed.get(Verdict.CLEAN).batchRows(), "clean's commit leaves none of the batch there");
    assertEquals(2L, failed.get(Verdict.CLEAN).version(), "created, x, then the batch taken out");

    // passing again: back to clean, and out of staged
    Map<Verdict, VerdictTables.Commit> passed = tables.write(batch(spark, "r3", List.of("a", "b", "c"),
        List.of("d")));
    assertEquals(List.of("a", "b", "c", "x"), ids(tables, Verdict.CLEAN));
    assertEquals(List.of(), ids(tables, Verdict.STAGED));
    assertEquals(0L, passed.get(Verdict.STAGED).batchRows());

    // a new batch that fails: clean holds none of it and gets no commit, so it stays at its version
    Map<Verdict, VerdictTables.Commit> other = tables.write(failedGate(spark, "r4", List.of("y"), List.of("z")));
    assertEquals(Set.of(Verdict.STAGED, Verdict.QUARANTINE, Verdict.REJECTED), other.keySet());
    assertEquals(3L, io.delta.tables.DeltaTable.forPath(spark, tables.path(Verdict.CLEAN)).history(1)
        .select("version").head().getLong(0));
  }

  private static Map<Verdict, Dataset<Row>> failedGate(SparkSession spark, String runId, List<String> passed,
      List<String> quarantined) {
    Map<Verdict, Dataset<Row>> byVerdict = batch(spark, runId, List.of(), quarantined);
    byVerdict.remove(Verdict.CLEAN);
    byVerdict.put(Verdict.STAGED, rows(spark, runId, passed.toArray(new String[0])));
    return byVerdict;
  }

  private static List<String> ids(VerdictTables tables, Verdict verdict) {
    return tables.read(verdict).select(Columns.ID).orderBy(Columns.ID)
        .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
  }

  @Test
  void scoresAreWrittenWithoutDictionaryAndOtherColumnsKeepIt(SparkSession spark, @TempDir Path dir) throws Exception {
    // a hundred rows with four distinct values in each column, which Parquet by default writes as a dictionary
    Dataset<Row> scored = rows(spark, "r1", java.util.stream.IntStream.range(0, 100).mapToObj(i -> "id" + i)
        .toArray(String[]::new)).withColumn("x", org.apache.spark.sql.functions.pmod(
            org.apache.spark.sql.functions.hash(org.apache.spark.sql.functions.col(Columns.ID)),
            org.apache.spark.sql.functions.lit(4)).cast("double"))
        .withColumn(Columns.PREFIX + "score_test", org.apache.spark.sql.functions.col("x").multiply(0.5))
        .coalesce(1);
    VerdictTables tables = new VerdictTables(spark, dir.toString());
    tables.write(Map.of(Verdict.CLEAN, scored));

    Map<String, Boolean> dictionary = PlainEncodingTest.dictionaryPages(dir.resolve(Verdict.CLEAN.table()));
    assertEquals(false, dictionary.get(Columns.PREFIX + "score_test"), "a score: plain");
    assertEquals(true, dictionary.get("x"), "a feature: Parquet's default");
  }
}
