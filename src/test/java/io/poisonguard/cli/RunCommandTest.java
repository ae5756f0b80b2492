package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.delta.tables.DeltaTable;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The {@code run} command end to end on real data, as a user runs it. */
@ExtendWith(SharedSpark.class)
class RunCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private Dataset<Row> table(SparkSession spark, Path warehouse, String name) {
    return spark.read().format("delta").load(warehouse.resolve(name).toString());
  }

  private Path smallBatch(int rows) throws IOException {
    return Files.write(dir.resolve("batch.csv"), SpambaseLines.everyFourth(1, rows));
  }

  @Test
  void quickstartRunsEndToEndAndIsIdempotent(SparkSession spark) throws IOException {
    Path warehouse = dir.resolve("warehouse");
    Path summaryFile = dir.resolve("s.json");
    CliRun first = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse", warehouse.toString(),
        "--output-json", summaryFile.toString());
    assertEquals(0, first.exitCode(), first.out() + first.err());
    JsonNode s = JSON.readTree(summaryFile.toFile());
    long read = s.get("rows_read").asLong();
    assertEquals(4601, read);
    assertEquals(read, s.get("clean").asLong() + s.get("quarantined").asLong() + s.get("rejected").asLong());
    assertTrue(s.get("quarantined").asLong() > 0, "real data has some outliers");
    assertTrue(List.of("pass", "warn").contains(s.get("gate").asText()));
    for (String key : List.of("run_id", "pipeline", "gate_reasons", "tables")) {
      assertTrue(s.has(key), key);
    }
    for (String t : List.of("quickstart/clean", "quickstart/quarantine", "quickstart/rejected", "_audit/runs",
        "_audit/profiles")) {
      assertTrue(DeltaTable.isDeltaTable(spark, warehouse.resolve(t).toString()), t);
    }
    long clean = table(spark, warehouse, "quickstart/clean").count();
    long quarantined = table(spark, warehouse, "quickstart/quarantine").count();
    long rejected = table(spark, warehouse, "quickstart/rejected").count();
    assertEquals(read, clean + quarantined + rejected);
    assertEquals(s.get("clean").asLong(), clean);
    Row reasons = table(spark, warehouse, "quickstart/quarantine").select(Columns.REASONS).first();
    assertTrue(reasons.getList(0).size() > 0, "every quarantined row says why");
    assertTrue(first.out().contains("[1/8] ingest"), first.out());
    assertTrue(first.out().contains("rows read"), first.out());

    CliRun second = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        warehouse.toString());
    assertEquals(0, second.exitCode(), second.err());
    Dataset<Row> cleanAfter = table(spark, warehouse, "quickstart/clean");
    assertEquals(clean, cleanAfter.count(), "a rerun adds nothing");
    assertEquals(clean, cleanAfter.select(Columns.ID).distinct().count(), "no duplicate ids");
    assertEquals(quarantined, table(spark, warehouse, "quickstart/quarantine").count());
    assertEquals(2, table(spark, warehouse, "_audit/runs").count());
  }

  @Test
  void aTrustedReferenceFitsTheDetectorsAndItsBatchFlipsAreQuarantined(SparkSession spark) throws IOException {
    // the even lines are the trusted reference, the odd lines the batch
    SpambaseHalves halves = SpambaseHalves.write(dir, "reference.csv", "batch.csv");
    List<String> flipped = halves.flipped();
    Path warehouse = dir.resolve("trusted-wh");
    Path summaryFile = dir.resolve("trusted.json");
    CliRun run = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse", warehouse.toString(),
        "--set", "input.path=" + halves.odd(), "--set", "input.id=id", "--set", "reference=" + halves.even(),
        "--set", "gate.max_psi=10", "--set", "gate.warn_psi=10", "--output-json", summaryFile.toString());
    assertEquals(0, run.exitCode(), run.out() + run.err());
    JsonNode s = JSON.readTree(summaryFile.toFile());
    assertEquals(halves.oddRows(), s.get("rows_read").asLong());
    assertEquals(s.get("rows_read").asLong(),
        s.get("clean").asLong() + s.get("quarantined").asLong() + s.get("rejected").asLong());
    Dataset<Row> quarantine = table(spark, warehouse, "quickstart/quarantine");
    long caught = quarantine.where(functions.col("id").cast("string").isin(flipped.toArray())).count();
    long cleanQuarantined = quarantine.count() - caught;
    long cleanRows = halves.oddRows() - flipped.size();
    System.out.printf("run with a trusted reference: %d of %d flips quarantined, %d of %d clean rows%n", caught,
        flipped.size(), cleanQuarantined, cleanRows);
    // Measured: 162 of 231 flips and 16 of 2070 clean rows (0.8%) quarantined at the 1% target.
    assertTrue(caught >= 0.5 * flipped.size(), caught + " of " + flipped.size() + " flips quarantined");
    assertTrue(cleanQuarantined <= 0.025 * cleanRows, cleanQuarantined + " clean rows quarantined");
    assertFalse(run.out().contains("set aside"), run.out());
  }

  @Test
  void withLastAcceptedTheNextBatchIsMeasuredAgainstTheCleanRowsOfTheRunBefore(SparkSession spark)
      throws IOException {
    // the even lines are a first batch, the odd lines the next one
    SpambaseHalves halves = SpambaseHalves.write(dir, "first.csv", "next.csv");
    List<String> flipped = halves.flipped();
    Path warehouse = dir.resolve("last-accepted-wh");
    List<String> settings = List.of("--set", "input.id=id", "--set", "reference=last_accepted", "--set",
        "gate.max_psi=10", "--set", "gate.warn_psi=10");

    JsonNode firstRun = runWith(warehouse, halves.even(), settings, "first.json");
    assertTrue(firstRun.get("out").asText().contains("reference: no accepted run without rows of this batch"),
        firstRun.get("out").asText());
    String firstId = firstRun.get("run_id").asText();

    JsonNode nextRun = runWith(warehouse, halves.odd(), settings, "next.json");
    assertTrue(nextRun.get("out").asText().contains("reference: clean rows of accepted run " + firstId),
        nextRun.get("out").asText());
    Dataset<Row> quarantine = table(spark, warehouse, "quickstart/quarantine")
        .where(functions.col(Columns.RUN_ID).equalTo(nextRun.get("run_id").asText()));
    // knn_batch runs only against a reference: its scores are new to the tables the first run created, and kept
    String knnBatch = Columns.PREFIX + "score_knn_batch";
    assertTrue(List.of(table(spark, warehouse, "quickstart/clean").columns()).contains(knnBatch));
    assertEquals(quarantine.count(), quarantine.where(functions.col(knnBatch).isNotNull()).count(),
        "every quarantined row of the run has its knn_batch score");
    long caught = quarantine.where(functions.col("id").cast("string").isin(flipped.toArray())).count();
    long quarantined = quarantine.count();
    long cleanQuarantined = quarantined - caught;
    long cleanRows = halves.oddRows() - flipped.size();
    System.out.printf("run against the last accepted run: %d of %d flips quarantined, %d of %d clean rows%n", caught,
        flipped.size(), cleanQuarantined, cleanRows);
    assertTrue(caught >= 0.5 * flipped.size(), caught + " of " + flipped.size() + " flips quarantined");
    assertTrue(cleanQuarantined <= 0.025 * cleanRows, cleanQuarantined + " clean rows quarantined");
    Row record = table(spark, warehouse, "_audit/runs")
        .where(functions.col("run_id").equalTo(nextRun.get("run_id").asText())).first();
    JsonNode reference = JSON.readTree(record.<String>getAs("inputs")).get("reference");
    Row firstRecord = table(spark, warehouse, "_audit/runs").where(functions.col("run_id").equalTo(firstId)).first();
    assertEquals(firstId, reference.get("last_accepted_run").asText(), reference.toString());
    assertEquals(JSON.readTree(firstRecord.<String>getAs("outputs")).get("CLEAN").asLong(),
        reference.get("delta_version").asLong(), reference.toString());

    // A rerun of the next batch shares its rows with the run before it, so it is measured against the first run
    // again, and its verdicts repeat (the rerun's id replaces the run id of the rows it writes again).
    JsonNode rerun = runWith(warehouse, halves.odd(), settings, "rerun.json");
    assertTrue(rerun.get("out").asText().contains("reference: clean rows of accepted run " + firstId),
        rerun.get("out").asText());
    assertEquals(nextRun.get("quarantined").asLong(), rerun.get("quarantined").asLong());
    assertEquals(quarantined, table(spark, warehouse, "quickstart/quarantine")
        .where(functions.col(Columns.RUN_ID).equalTo(rerun.get("run_id").asText())).count());
  }

  /**
   * Spambase with an id column (the line number) in two files: the even lines, and the odd lines with every 10th
   * row's label flipped; {@code flipped} holds the flipped rows' ids, {@code oddRows} the odd file's rows.
   */
  private record SpambaseHalves(Path even, Path odd, List<String> flipped, long oddRows) {
    static SpambaseHalves write(Path dir, String evenName, String oddName) throws IOException {
      List<String> all = Files.readAllLines(Path.of("data/spambase.csv"));
      List<String> even = new ArrayList<>(List.of("\"id\"," + all.get(0)));
      List<String> odd = new ArrayList<>(even);
      List<String> flipped = new ArrayList<>();
      for (int i = 1; i < all.size(); i++) {
        String line = i + "," + all.get(i);
        if (i % 2 == 0) {
          even.add(line);
        } else if (i % 20 == 1) {
          flipped.add(Integer.toString(i));
          odd.add(line.endsWith(",\"spam\"") ? line.replaceAll(",\"spam\"$", ",\"nonspam\"")
              : line.replaceAll(",\"nonspam\"$", ",\"spam\""));
        } else {
          odd.add(line);
        }
      }
      return new SpambaseHalves(Files.write(dir.resolve(evenName), even), Files.write(dir.resolve(oddName), odd),
          flipped, odd.size() - 1);
    }
  }

  /** Runs the quickstart on {@code input} with {@code settings}; its summary, plus what it printed as "out". */
  private JsonNode runWith(Path warehouse, Path input, List<String> settings, String summaryName) throws IOException {
    Path summaryFile = dir.resolve(summaryName);
    List<String> args = new ArrayList<>(List.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        warehouse.toString(), "--set", "input.path=" + input, "--output-json", summaryFile.toString()));
    args.addAll(settings);
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.out() + run.err());
    ObjectNode s = (ObjectNode) JSON.readTree(summaryFile.toFile());
    assertEquals(s.get("rows_read").asLong(),
        s.get("clean").asLong() + s.get("quarantined").asLong() + s.get("rejected").asLong());
    return s.put("out", run.out());
  }

  @Test
  void aTrustedReferenceTooSmallForTheTargetIsSetAsideAndRecorded(SparkSession spark) throws IOException {
    Path batch = smallBatch(600);
    List<String> lines = Files.readAllLines(batch);
    // 60 of the batch's lines: fewer than the 100 (1 / target_fpr) a reference needs at the quickstart's 1% target
    List<String> reference = new ArrayList<>(List.of(lines.get(0)));
    for (int i = 1; i < lines.size() && reference.size() <= 60; i += 7) {
      reference.add(lines.get(i));
    }
    Path referenceFile = Files.write(dir.resolve("small-reference.csv"), reference);
    Path warehouse = dir.resolve("small-reference-wh");
    CliRun run = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse", warehouse.toString(),
        "--set", "input.path=" + batch, "--set", "reference=" + referenceFile, "--set", "gate.max_psi=10",
        "--set", "gate.warn_psi=10", "--set", "gate.max_label_share_change=1",
        "--set", "gate.warn_label_share_change=1");
    assertEquals(0, run.exitCode(), run.out() + run.err());
    assertTrue(run.out().contains("reference set aside: the trusted sample has 60 rows, fewer than the 100"),
        run.out());
    List<Row> recorded = table(spark, warehouse, "_audit/metrics")
        .where(functions.col("metric").equalTo("set_aside")).collectAsList();
    assertEquals(1, recorded.size(), recorded.toString());
    assertEquals("detect", recorded.get(0).getAs("entity"));
    assertTrue(recorded.get(0).<String>getAs("detail").startsWith("the trusted sample has 60 rows"),
        recorded.toString());
  }

  /**
   * {@code detect.contamination: 0.1} quarantines a tenth of a 600-row batch (the level is set on the whole batch, so
   * only rows tied at it can move the count), says the level on the detect line and in the report, and records it in
   * the metrics.
   */
  @Test
  void aContaminationShareQuarantinesThatShareAndIsRecorded(SparkSession spark) throws IOException {
    Path warehouse = dir.resolve("contamination-wh");
    Path summaryFile = dir.resolve("contamination.json");
    CliRun run = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse", warehouse.toString(),
        "--set", "input.path=" + smallBatch(600), "--set", "detect.contamination=0.1", "--output-json",
        summaryFile.toString());
    assertEquals(0, run.exitCode(), run.out() + run.err());
    JsonNode summary = JSON.readTree(summaryFile.toFile());
    String runId = summary.get("run_id").asText();
    List<String> stages = new ArrayList<>();
    summary.get("timings_seconds").fieldNames().forEachRemaining(stages::add);
    assertEquals(List.of("ingest", "count", "profile", "detect", "gate", "write", "audit", "report"), stages,
        "every stage's time, the last ones too");
    Path reportDir = warehouse.resolve("quickstart/reports/" + runId);
    JsonNode detection = JSON.readTree(reportDir.resolve("report.json").toFile()).get("detection");
    assertEquals("0.1", detection.get("contamination").asText(), detection.toString());
    assertEquals(0.1, detection.get("contamination_share").asDouble(), 1e-12);
    assertTrue(Files.readString(reportDir.resolve("report.html")).contains("Rows were flagged at a combined p-value "
        + "of at most"), "the report says the level");
    assertTrue(run.out().contains("flag level p <= ") && run.out().contains("for contamination 0.1 (share 0.1000)"),
        run.out());
    long quarantined = table(spark, warehouse, "quickstart/quarantine").count();
    assertTrue(quarantined >= 54 && quarantined <= 66, quarantined + " of 600 rows quarantined");
    Map<String, Row> flag = new HashMap<>();
    table(spark, warehouse, "_audit/metrics").where(functions.col("name").equalTo("flag")).collectAsList()
        .forEach(r -> flag.put(r.getAs("metric"), r));
    assertEquals(0.1, flag.get("contamination_share").<Double>getAs("value"), 1e-12);
    assertEquals("0.1", flag.get("level").getAs("detail"));
    assertTrue(flag.get("level").<Double>getAs("value") > 0.01, flag.toString());
  }

  /**
   * A failed gate adds nothing to {@code clean}: a new batch that fails leaves the table at its version, its passed
   * rows waiting in {@code staged}. A rerun of an accepted batch that now fails takes that batch out of {@code clean}
   * (each id sits in one table), in one more commit.
   */
  @Test
  void aBrokenGateExitsThreeAndAddsNothingToClean(SparkSession spark) throws IOException {
    Path warehouse = dir.resolve("wh");
    Path batch = smallBatch(600);
    CliRun accepted = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        warehouse.toString(), "--set", "input.path=" + batch);
    assertEquals(0, accepted.exitCode(), accepted.err());
    String cleanPath = warehouse.resolve("quickstart/clean").toString();
    long versionBefore = DeltaTable.forPath(spark, cleanPath).history(1).select("version").head().getLong(0);
    long rowsBefore = spark.read().format("delta").load(cleanPath).count();

    // another batch: the lines between the first batch's
    Path otherBatch = Files.write(dir.resolve("other.csv"), SpambaseLines.everyFourth(3, 600));
    Path summaryFile = dir.resolve("fail.json");
    CliRun blocked = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        warehouse.toString(), "--set", "input.path=" + otherBatch, "--set", "gate.max_quarantine_fraction=0",
        "--output-json", summaryFile.toString());
    assertEquals(3, blocked.exitCode(), blocked.out() + blocked.err());
    assertTrue(blocked.out().contains("gate.max_quarantine_fraction"), blocked.out());
    assertEquals(versionBefore, DeltaTable.forPath(spark, cleanPath).history(1).select("version").head().getLong(0));
    assertEquals(rowsBefore, spark.read().format("delta").load(cleanPath).count());
    JsonNode s = JSON.readTree(summaryFile.toFile());
    assertEquals("fail", s.get("gate").asText());
    String runId = s.get("run_id").asText();
    long staged = table(spark, warehouse, "quickstart/staged")
        .filter(functions.col(Columns.RUN_ID).equalTo(runId)).count();
    assertEquals(s.get("clean").asLong(), staged, "the held-back rows wait in staged");

    // the accepted batch again, now failing: out of clean, into staged
    Path rerunFile = dir.resolve("rerun-fail.json");
    CliRun rerun = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        warehouse.toString(), "--set", "input.path=" + batch, "--set", "gate.max_quarantine_fraction=0",
        "--output-json", rerunFile.toString());
    assertEquals(3, rerun.exitCode(), rerun.out() + rerun.err());
    JsonNode r = JSON.readTree(rerunFile.toFile());
    assertEquals(versionBefore + 1, DeltaTable.forPath(spark, cleanPath).history(1).select("version").head()
        .getLong(0));
    assertEquals(0L, spark.read().format("delta").load(cleanPath).count(), "clean held that batch only");
    assertEquals(r.get("clean").asLong(), table(spark, warehouse, "quickstart/staged")
        .filter(functions.col(Columns.RUN_ID).equalTo(r.get("run_id").asText())).count());
    CliRun verify = CliRun.of("audit", "verify", "--warehouse", warehouse.toString());
    assertEquals(0, verify.exitCode(), verify.out() + verify.err());
  }

  @Test
  void malformedLinesLandInRejectedWithLineNumbers(SparkSession spark) throws IOException {
    Path batch = smallBatch(300);
    List<String> lines = new ArrayList<>(Files.readAllLines(batch));
    String good = lines.get(5);
    List<Integer> badLines = List.of(10, 40, 80, 150, 250);
    lines.set(9, good + ",1");
    lines.set(39, good.replaceFirst("^[^,]*", "x1"));
    lines.set(79, "\"" + good);
    lines.set(149, good.substring(0, 10));
    lines.set(249, good.replaceFirst(",[^,]*,", ",\"\"9,"));
    Files.write(batch, lines);
    Path warehouse = dir.resolve("wh-bad");
    Path summaryFile = dir.resolve("bad.json");
    CliRun run = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse", warehouse.toString(),
        "--set", "input.path=" + batch, "--output-json", summaryFile.toString());
    assertEquals(0, run.exitCode(), run.err());
    List<Long> rejectedLines = table(spark, warehouse, "quickstart/rejected").orderBy(Columns.LINE)
        .select(Columns.LINE).as(org.apache.spark.sql.Encoders.LONG()).collectAsList();
    assertEquals(badLines.stream().map(Long::valueOf).toList(), rejectedLines);
    JsonNode s = JSON.readTree(summaryFile.toFile());
    assertEquals(5, s.get("rejected").asLong());
    assertEquals(s.get("rows_read").asLong(),
        s.get("clean").asLong() + s.get("quarantined").asLong() + s.get("rejected").asLong());
  }

  @Test
  void aBatchWhoseColumnsDifferFromTheTablesExitsTwoBeforeAnyWrite(SparkSession spark) throws IOException {
    Path warehouse = dir.resolve("wh-new-column");
    List<String> settings = List.of("--set", "reference=last_accepted");
    runWith(warehouse, smallBatch(300), settings, "first.json");
    long cleanVersion = DeltaTable.forPath(spark, warehouse.resolve("quickstart/clean").toString()).history(1)
        .first().getLong(0);
    // other lines of the file: with a column the first batch did not have; without one it had; with a name that
    // Delta cannot hold (a space), as the first batch of another pipeline
    List<String> lines = SpambaseLines.everyFourth(2, 300);
    List<String> withNote = new ArrayList<>(List.of(lines.get(0) + ",\"note\""));
    lines.subList(1, lines.size()).forEach(line -> withNote.add(line + ",\"x\""));
    List<String> withoutMake = lines.stream().map(line -> line.substring(line.indexOf(',') + 1)).toList();
    List<String> spaced = new ArrayList<>(lines);
    spaced.set(0, spaced.get(0).replaceFirst("^\"?make\"?", "\"make it\""));
    Map<String, List<String>> batches = Map.of("column 'note' is new in this batch, not in the clean table", withNote,
        "column 'make' is in the clean table but not in this batch", withoutMake,
        "column 'make it' has a space or one of ,;{}()= in its name", spaced);
    for (Map.Entry<String, List<String>> batch : batches.entrySet()) {
      Path file = Files.write(dir.resolve("next-" + batch.getValue().hashCode() + ".csv"), batch.getValue());
      List<String> args = new ArrayList<>(List.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
          warehouse.toString(), "--set", "input.path=" + file));
      args.addAll(settings);
      if (batch.getKey().contains("space")) {
        args.addAll(List.of("--set", "name=spaced"));
      }
      CliRun run = CliRun.of(args.toArray(String[]::new));
      assertEquals(2, run.exitCode(), run.out() + run.err());
      assertEquals(1, run.errLines(), run.err());
      assertTrue(run.err().contains(batch.getKey()), run.err());
    }
    assertEquals(cleanVersion, DeltaTable.forPath(spark, warehouse.resolve("quickstart/clean").toString()).history(1)
        .first().getLong(0), "nothing written");
    assertEquals(1, table(spark, warehouse, "_audit/runs").count());
  }

  @Test
  void configurationErrorsExitTwoWithOneLineNamingTheProblem() throws IOException {
    Path pipeline = dir.resolve("bad.yaml");
    Files.writeString(pipeline, Files.readString(Path.of("pipelines/quickstart.yaml")) + "\nextra_key: 1\n");
    CliRun unknownKey = CliRun.of("run", "--pipeline", pipeline.toString());
    assertEquals(2, unknownKey.exitCode());
    assertEquals(1, unknownKey.errLines(), unknownKey.err());
    assertTrue(unknownKey.err().contains("unknown key 'extra_key'"), unknownKey.err());

    Path batch = smallBatch(50);
    CliRun noLabel = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        dir.resolve("w").toString(), "--set", "input.path=" + batch, "--set", "input.label=category");
    assertEquals(2, noLabel.exitCode(), noLabel.err());
    assertEquals(1, noLabel.errLines(), noLabel.err());
    assertTrue(noLabel.err().contains("input.label: column 'category'"), noLabel.err());

    CliRun badFeature = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        dir.resolve("w").toString(), "--set", "input.path=" + batch, "--set", "input.schema={make: timestamp}");
    assertEquals(2, badFeature.exitCode(), badFeature.err());
    assertEquals(1, badFeature.errLines(), badFeature.err());
    assertTrue(badFeature.err().contains("column 'make'"), badFeature.err());

    CliRun badMaster = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--master", "foo");
    assertEquals(2, badMaster.exitCode(), badMaster.err());
    assertEquals(1, badMaster.errLines(), badMaster.err());
    assertTrue(badMaster.err().contains("master 'foo' is not a Spark master URL"), badMaster.err());

    CliRun summaryIntoAFolder = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--output-json",
        dir.toString());
    assertEquals(2, summaryIntoAFolder.exitCode(), summaryIntoAFolder.err());
    assertTrue(summaryIntoAFolder.err().contains("is a folder"), summaryIntoAFolder.err());

    CliRun badFlag = CliRun.of("run", "--pipelin", "x.yaml");
    assertEquals(2, badFlag.exitCode());
    assertTrue(badFlag.err().contains("--pipelin"), badFlag.err());

    CliRun missingFile = CliRun.of("run", "--pipeline", dir.resolve("none.yaml").toString());
    assertEquals(2, missingFile.exitCode());
    assertTrue(missingFile.err().contains("none.yaml"), missingFile.err());
    assertTrue(!missingFile.err().contains("\tat "), "no stack trace");
  }
}
