package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.delta.tables.DeltaTable;
import io.poisonguard.audit.RunRecord;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run whose table write fails: here a plain file stands where the quarantine table's folder should be (a
 * file another tool left there). The run exits 1 with one line, leaves {@code clean} alone (it is committed last),
 * says in the audit that it failed and why, and the rerun after the folder is cleared completes the batch.
 */
@ExtendWith(SharedSpark.class)
class FailedWriteTest {
  @TempDir
  Path dir;

  @Test
  void aFailedWriteLeavesCleanAloneIsAuditedAsFailedAndARerunCompletesTheBatch(SparkSession spark) throws IOException {
    Path batch = Files.write(dir.resolve("batch.csv"), SpambaseLines.everyFourth(1, 600));
    Path warehouse = dir.resolve("warehouse");
    Path blocked = warehouse.resolve("quickstart/quarantine");
    Files.createDirectories(blocked.getParent());
    Files.writeString(blocked, "not a Delta table");

    CliRun failed = run(batch, warehouse);
    assertEquals(ExitCodes.INTERNAL, failed.exitCode(), failed.out() + failed.err());
    assertEquals(1, failed.errLines(), failed.err());
    assertTrue(failed.err().contains("quarantine"), "names the table: " + failed.err());
    assertFalse(DeltaTable.isDeltaTable(spark, warehouse.resolve("quickstart/clean").toString()),
        "clean is written last, so the failed write never reached it");

    List<Row> records = spark.read().format("delta").load(warehouse.resolve("_audit/runs").toString())
        .collectAsList();
    assertEquals(1, records.size());
    RunRecord record = RunRecord.fromRow(records.get(0));
    assertEquals(RunRecord.FAILED, record.status());
    assertTrue(record.outputsJson().startsWith("{\"error\":") && record.outputsJson().contains("quarantine"),
        record.outputsJson());
    assertEquals(600, record.rowsRead());
    assertEquals(record.rowsRead(), record.clean() + record.quarantined() + record.rejected());

    CliRun list = audit(warehouse, "list");
    assertTrue(list.out().contains(record.runId()) && list.out().contains(" failed "), list.out());
    CliRun show = audit(warehouse, "show", record.runId());
    assertTrue(show.out().contains("status       failed: {\"error\":"), show.out());
    CliRun export = audit(warehouse, "export", record.runId(), "--format", "csv", "--out",
        dir.resolve("export").toString());
    assertEquals(ExitCodes.USAGE, export.exitCode(), export.out() + export.err());
    assertTrue(export.err().contains("rerun its batch"), export.err());
    CliRun verify = audit(warehouse, "verify");
    assertEquals(0, verify.exitCode(), "a failed run's record is sound; its tables are not checked: " + verify.out()
        + verify.err());

    Files.delete(blocked);
    CliRun rerun = run(batch, warehouse);
    assertEquals(0, rerun.exitCode(), rerun.out() + rerun.err());
    long clean = count(spark, warehouse, "quickstart/clean");
    long quarantined = count(spark, warehouse, "quickstart/quarantine");
    long rejected = count(spark, warehouse, "quickstart/rejected");
    assertEquals(600, clean + quarantined + rejected);
    assertEquals(record.quarantined(), quarantined, "the same batch gets the same verdicts");
    assertEquals(0, audit(warehouse, "verify").exitCode());
    List<String> statuses = spark.read().format("delta").load(warehouse.resolve("_audit/runs").toString())
        .orderBy("finished_at").select("status").as(Encoders.STRING()).collectAsList();
    assertEquals(List.of(RunRecord.FAILED, RunRecord.OK), statuses);
  }

  private static CliRun run(Path batch, Path warehouse) {
    return CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse", warehouse.toString(),
        "--set", "input.path=" + batch);
  }

  private static CliRun audit(Path warehouse, String... args) {
    List<String> argv = new ArrayList<>(List.of("audit"));
    argv.addAll(List.of(args));
    argv.addAll(List.of("--warehouse", warehouse.toString()));
    return CliRun.of(argv.toArray(String[]::new));
  }

  private static long count(SparkSession spark, Path warehouse, String table) {
    return spark.read().format("delta").load(warehouse.resolve(table).toString()).count();
  }
}
