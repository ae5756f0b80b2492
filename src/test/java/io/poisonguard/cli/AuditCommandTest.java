package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.tables.DeltaTable;
import io.poisonguard.report.Redactor;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The auditor's commands after two quickstart runs and a release: list, show, export with redaction, verify, and
 * verify catching a deleted record and an altered count in copies of the warehouse.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> LABELS = Set.of("spam", "nonspam");

  @TempDir
  static Path dir;

  private Path warehouse;
  private String first;
  private String second;
  private long quarantined;

  @BeforeAll
  void twoQuickstartRuns() throws IOException {
    warehouse = dir.resolve("warehouse");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Path summary = dir.resolve("summary-" + i + ".json");
      CliRun run = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse", warehouse.toString(),
          "--output-json", summary.toString());
      assertEquals(0, run.exitCode(), run.out() + run.err());
      JsonNode s = JSON.readTree(summary.toFile());
      ids.add(s.get("run_id").asText());
      quarantined = s.get("quarantined").asLong();
    }
    first = ids.get(0);
    second = ids.get(1);
    assertTrue(quarantined > 3, "the quickstart quarantines a few rows");
  }

  private CliRun audit(String... args) {
    List<String> argv = new ArrayList<>(List.of("audit"));
    argv.addAll(List.of(args));
    argv.addAll(List.of("--warehouse", warehouse.toString()));
    return CliRun.of(argv.toArray(String[]::new));
  }

  @Test
  @Order(1)
  void listAndShowDescribeTheRuns() {
    CliRun list = audit("list");
    assertEquals(0, list.exitCode(), list.err());
    assertTrue(list.out().contains(first) && list.out().contains(second), list.out());
    assertTrue(audit("list", "--pipeline", "nosuch").out().contains("no runs of pipeline nosuch"));

    CliRun show = audit("show", second);
    assertEquals(0, show.exitCode(), show.err());
    assertTrue(show.out().contains("rows read    4601 = clean"), show.out());
    assertTrue(show.out().contains("\"QUARANTINE\":"), "names the table versions it wrote: " + show.out());
    assertTrue(show.out().contains("poison_score"), show.out());

    CliRun unknown = audit("show", "20200101T000000Z-nosuch");
    assertEquals(ExitCodes.USAGE, unknown.exitCode());
    assertEquals(1, unknown.errLines(), unknown.err());
    assertTrue(unknown.err().contains("no run 20200101T000000Z-nosuch"), unknown.err());
  }

  @Test
  @Order(2)
  void exportsHoldEveryQuarantinedRowWithReasonsAndNoRedactedValue(SparkSession spark) throws Exception {
    Path key = dir.resolve("key");
    Files.writeString(key, "audit-key-2026");
    Path out = dir.resolve("exports");
    for (String format : List.of("json", "csv", "html")) {
      CliRun export = audit("export", second, "--format", format, "--out", out.toString(), "--redact", "type",
          "--redact-key-file", key.toString());
      assertEquals(0, export.exitCode(), export.out() + export.err());
    }
    try (Stream<Path> files = Files.list(out)) {
      assertEquals(Set.of(second + ".json", second + "-quarantine.csv", second + ".html"),
          new HashSet<>(files.map(p -> p.getFileName().toString()).toList()), "only the exports, inside --out");
    }
    Set<String> quarantinedIds = new HashSet<>();
    Dataset<Row> q = spark.read().format("delta").load(warehouse.resolve("quickstart/quarantine").toString())
        .filter(functions.col(Columns.RUN_ID).equalTo(second));
    q.select(Columns.ID).collectAsList().forEach(r -> quarantinedIds.add(r.getString(0)));
    assertEquals(quarantined, quarantinedIds.size());

    JsonNode doc = JSON.readTree(out.resolve(second + ".json").toFile());
    for (String section : List.of("summary", "gate", "drift", "detectors", "reasons", "sources", "models")) {
      assertTrue(doc.has(section), section);
    }
    Set<String> exported = new HashSet<>();
    Redactor redactor = new Redactor(Files.readAllBytes(key), List.of("type"), "type", null, null);
    for (JsonNode row : doc.get("quarantined_rows")) {
      exported.add(row.get(Columns.ID).asText());
      assertTrue(row.get(Columns.REASONS).size() > 0, "every row says why");
      String type = row.get("type").asText();
      assertTrue(type.equals(redactor.token("spam")) || type.equals(redactor.token("nonspam")), type);
    }
    assertEquals(quarantinedIds, exported);
    assertFalse(containsValue(doc, LABELS), "no class name in clear anywhere in the JSON");

    List<String> csv = Files.readAllLines(out.resolve(second + "-quarantine.csv"));
    List<String> header = List.of(csv.get(0).split(","));
    assertEquals(Columns.ID, header.get(0));
    assertTrue(header.contains(Columns.REASONS) && header.contains(Columns.POISON_SCORE), csv.get(0));
    assertEquals(quarantined + 1, csv.size());
    for (String line : csv.subList(1, csv.size())) {
      for (String cell : line.split(",")) {
        assertFalse(LABELS.contains(cell.replace("\"", "")), line);
      }
      assertTrue(quarantinedIds.contains(line.substring(0, line.indexOf(','))), line);
    }
    String html = Files.readString(out.resolve(second + ".html"));
    quarantinedIds.forEach(id -> assertTrue(html.contains("<td>" + id + "</td>"), id));
    for (String label : LABELS) {
      assertFalse(html.contains(">" + label + "<") || html.contains("=" + label + ",")
          || html.contains("'" + label + "'"), label);
    }

    CliRun badColumn = audit("export", second, "--format", "csv", "--out", out.toString(), "--redact", "nosuch");
    assertEquals(ExitCodes.USAGE, badColumn.exitCode());
    assertTrue(badColumn.err().contains("nosuch"), badColumn.err());
    assertEquals(ExitCodes.USAGE, audit("export", second, "--format", "xml", "--out", out.toString()).exitCode());
  }

  private static boolean containsValue(JsonNode node, Set<String> values) {
    if (node.isTextual()) {
      return values.contains(node.asText()) || values.stream().anyMatch(v -> node.asText().contains("=" + v + ",")
          || node.asText().contains("'" + v + "'"));
    }
    Iterator<String> names = node.fieldNames();
    while (names.hasNext()) {
      if (values.contains(names.next())) {
        return true;
      }
    }
    for (JsonNode child : node) {
      if (containsValue(child, values)) {
        return true;
      }
    }
    return false;
  }

  @Test
  @Order(3)
  void aReleaseMovesReviewedRowsToCleanAndIsRecorded(SparkSession spark) throws Exception {
    String quarantinePath = warehouse.resolve("quickstart/quarantine").toString();
    List<String> ids = spark.read().format("delta").load(quarantinePath)
        .filter(functions.col(Columns.RUN_ID).equalTo(second)).orderBy(Columns.ID).limit(3)
        .select(Columns.ID).collectAsList().stream().map(r -> r.getString(0)).toList();
    Path file = dir.resolve("ids.txt");
    Files.write(file, Stream.concat(Stream.of("# reviewed 2026-12-02", ""), ids.stream()).toList());
    CliRun release = CliRun.of("release", second, "--ids", file.toString(), "--reason", "reviewed by QA",
        "--reviewer", "alice", "--warehouse", warehouse.toString());
    assertEquals(0, release.exitCode(), release.out() + release.err());
    assertTrue(release.out().contains("released 3 row(s)"), release.out());
    CliRun again = CliRun.of("release", second, "--ids", file.toString(), "--reason", "reviewed by QA",
        "--warehouse", warehouse.toString());
    assertEquals(0, again.exitCode(), again.err());
    assertTrue(again.out().contains("already released"), again.out());

    Dataset<Row> clean = spark.read().format("delta").load(warehouse.resolve("quickstart/clean").toString());
    assertEquals(3, clean.filter(functions.col(Columns.ID).isin(ids.toArray()))
        .filter(functions.not(functions.col(Columns.FLAGGED))).count());
    assertEquals(0, spark.read().format("delta").load(quarantinePath)
        .filter(functions.col(Columns.ID).isin(ids.toArray())).count());
    long stillAccounted = clean.filter(functions.col(Columns.RUN_ID).equalTo(second)).count()
        + spark.read().format("delta").load(quarantinePath).filter(functions.col(Columns.RUN_ID).equalTo(second))
            .count();
    assertEquals(4601, stillAccounted, "a release moves rows, it never loses or copies them");

    Files.write(file, List.of(ids.get(0), "not-an-id"));
    CliRun bad = CliRun.of("release", second, "--ids", file.toString(), "--reason", "x", "--warehouse",
        warehouse.toString());
    assertEquals(ExitCodes.USAGE, bad.exitCode());
    assertEquals(1, bad.errLines(), bad.err());

    assertTrue(audit("list").out().lines().anyMatch(l -> l.startsWith(second) && l.trim().endsWith(" 3")),
        audit("list").out());
    assertTrue(audit("show", second).out().contains("reviewed by QA"));
    JsonNode doc = exportJson(second);
    assertEquals(3, doc.get("releases").get(0).get("rows").asLong());
    long marked = 0;
    for (JsonNode row : doc.get("quarantined_rows")) {
      marked += row.hasNonNull("_pg_released_by") ? 1 : 0;
    }
    assertEquals(3, marked, "the export says which rows were released");
  }

  private JsonNode exportJson(String run) throws IOException {
    Path out = dir.resolve("exports-" + System.nanoTime());
    assertEquals(0, audit("export", run, "--format", "json", "--out", out.toString()).exitCode());
    return JSON.readTree(out.resolve(run + ".json").toFile());
  }

  @Test
  @Order(4)
  void verifyHoldsAndCatchesADeletedRecordAndAnAlteredCount(SparkSession spark) throws Exception {
    CliRun ok = audit("verify");
    assertEquals(0, ok.exitCode(), ok.out() + ok.err());
    // the releases the earlier steps recorded, read from the audit rather than assumed from their success
    Path releasesTable = warehouse.resolve("_audit/releases");
    long releases = Files.exists(releasesTable)
        ? spark.read().format("delta").load(releasesTable.toString()).count() : 0;
    assertTrue(ok.out().contains("2 run record(s), " + releases + " release(s) and 0 model(s)"), ok.out());
    assertEquals(0, audit("verify", first).exitCode());

    Path deleted = copyOfWarehouse("deleted");
    DeltaTable.forPath(spark, deleted.resolve("_audit/runs").toString()).delete(functions.col("run_id").equalTo(first));
    CliRun afterDelete = CliRun.of("audit", "verify", "--warehouse", deleted.toString());
    assertEquals(ExitCodes.AUDIT_FAILED, afterDelete.exitCode(), afterDelete.out());
    assertTrue(afterDelete.out().contains("append-only"), afterDelete.out());
    assertTrue(afterDelete.out().contains("run " + second) && afterDelete.out().contains("previous record"),
        afterDelete.out());
    assertTrue(afterDelete.out().contains("run " + first) && afterDelete.out().contains("no record"),
        "its report is still there: " + afterDelete.out());

    Path altered = copyOfWarehouse("altered");
    DeltaTable.forPath(spark, altered.resolve("_audit/runs").toString()).updateExpr("run_id = '" + second + "'",
        java.util.Map.of("quarantined", "quarantined - 1", "clean", "clean + 1"));
    CliRun afterAlter = CliRun.of("audit", "verify", second, "--warehouse", altered.toString());
    assertEquals(ExitCodes.AUDIT_FAILED, afterAlter.exitCode(), afterAlter.out());
    assertTrue(afterAlter.out().contains("does not match its hash"), afterAlter.out());
    assertTrue(afterAlter.out().contains("records " + (quarantined - 1) + " quarantine rows"), afterAlter.out());
  }

  private Path copyOfWarehouse(String name) throws IOException {
    Path copy = dir.resolve("copy-" + name);
    try (Stream<Path> files = Files.walk(warehouse)) {
      for (Path p : files.toList()) {
        Path target = copy.resolve(warehouse.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return copy;
  }
}
