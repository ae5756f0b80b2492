package io.poisonguard.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.cli.Main;
import io.poisonguard.spark.SharedSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The report every run writes, opened in a real headless browser. */
@ExtendWith(SharedSpark.class)
class HtmlReportTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  private String run(Path warehouse, Path batch) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Path summary = dir.resolve("summary.json");
    int code = Main.run(new String[] {"run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        warehouse.toString(), "--set", "input.path=" + batch, "--output-json", summary.toString()},
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8));
    assertEquals(0, code, out.toString(StandardCharsets.UTF_8));
    return JSON.readTree(summary.toFile()).get("run_id").asText();
  }

  @Test
  void everyRunWritesASelfContainedReportThatABrowserRendersWithoutErrorsOrRequests(SparkSession spark)
      throws Exception {
    List<String> all = Files.readAllLines(Path.of("data/spambase.csv"));
    List<String> lines = new ArrayList<>(List.of(all.get(0)));
    for (int i = 1; i < all.size(); i += 3) {
      lines.add(all.get(i));
    }
    Path batch = dir.resolve("batch.csv");
    Files.write(batch, lines);
    Path warehouse = dir.resolve("warehouse");
    run(warehouse, batch);
    // the second run has the first as its reference, so its report shows drift
    String runId = run(warehouse, batch);

    Path reportDir = warehouse.resolve("quickstart/reports/" + runId);
    Path html = reportDir.resolve("report.html");
    assertTrue(Files.isRegularFile(html), "every run writes its report");
    JsonNode json = JSON.readTree(reportDir.resolve("report.json").toFile());
    for (String key : List.of("summary", "gate", "drift", "detectors", "reasons", "sources", "inputs", "outputs")) {
      assertTrue(json.has(key), key);
    }
    assertEquals(lines.size() - 1, json.get("summary").get("rows_read").asLong());
    assertTrue(json.get("drift").get("psi").size() > 0, "the second run measured drift");
    // the run writes its report from the rows it appended; read back from the audit, they give the same document
    assertEquals(JSON.readTree(JSON.writeValueAsString(RunDocument.load(spark, warehouse.toString(), runId)
        .toJson(Redactor.none()))), json,
        "the run's report.json against the run's document read back from the audit tables");

    String page = Files.readString(html);
    assertTrue(page.contains(runId));
    for (String section : List.of("Detectors", "Quarantine reasons", "Drift against the reference",
        "Suspicion per source", "Releases", "Provenance")) {
      assertTrue(page.contains("<h2>" + section + "</h2>"), section);
    }
    Matcher images = Pattern.compile("<img src=\"([^\"]{0,40})").matcher(page);
    int charts = 0;
    while (images.find()) {
      assertTrue(images.group(1).startsWith("data:image/png;base64,"), "charts are embedded: " + images.group(1));
      charts++;
    }
    // one histogram per detector and the combined score, plus reasons, drift and sources
    assertTrue(charts >= json.get("detectors").size() + 3, "charts: " + charts);
    assertTrue(!page.contains("<script") && !page.matches("(?s).*(src|href)=\"(https?:)?//.*"),
        "nothing to run or fetch");

    Path screenshot = Path.of("target/artifacts/report.png");
    HeadlessChromium.PageLoad load;
    try (HeadlessChromium browser = HeadlessChromium.start()) {
      load = browser.load(html, screenshot);
    }
    assertEquals(List.of(), load.consoleErrors(), "console errors");
    assertTrue(load.requests().contains(html.toUri().toString()) || load.requests().stream()
        .anyMatch(u -> u.startsWith("file:") && u.endsWith("report.html")), "the page itself: " + load.requests());
    for (String url : load.requests()) {
      assertTrue(url.startsWith("file:") && url.endsWith("report.html") || url.startsWith("data:"),
          "no network request: " + url);
    }
    assertTrue(Files.size(screenshot) > 20_000, "a screenshot of the rendered page is saved");
  }
}
