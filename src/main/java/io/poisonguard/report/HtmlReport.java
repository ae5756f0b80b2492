package io.poisonguard.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.poisonguard.audit.ReleaseRecord;
import io.poisonguard.audit.ModelRecord;
import io.poisonguard.audit.RunRecord;
import io.poisonguard.evaluate.RobustnessReport;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The run's HTML report: one self-contained page (styles inline, charts as embedded PNG, no script, nothing
 * fetched) with the headline counts and gate decision, each detector's score distribution with its firing point,
 * quarantine reasons, drift per feature, suspicion per source, releases and provenance. Every run writes one to
 * {@code warehouse/<pipeline>/reports/<run>/report.html}, next to {@code report.json} (the same document as JSON);
 * {@code audit export --format html} renders the same page with every quarantined row appended.
 */
public final class HtmlReport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final SparkSession spark;
  private final String warehouse;

  /** Reports of the runs in the warehouse at {@code warehouse}. */
  public HtmlReport(SparkSession spark, String warehouse) {
    this.spark = spark;
    this.warehouse = warehouse;
  }

  /** Quarantined rows to list under the report: column names, then one row of display text at a time. */
  public interface Rows {
    /** Column names, in display order. */
    List<String> columns();

    /** The rows; each array holds one text per column. */
    Iterator<String[]> iterator();
  }

  /** Writes the report.html and report.json of a run's document; returns the path of report.html. */
  public String write(RunDocument doc) {
    String runId = doc.run().runId();
    Path dir = new Path(warehouse + "/" + doc.run().pipeline() + "/reports/" + runId);
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      fs.mkdirs(dir);
      try (FSDataOutputStream json = fs.create(new Path(dir, "report.json"), true)) {
        JSON.writeValue((java.io.OutputStream) json, doc.toJson(Redactor.none()));
      }
      Path html = new Path(dir, "report.html");
      try (Writer out = new OutputStreamWriter(fs.create(html, true), StandardCharsets.UTF_8)) {
        render(doc, Redactor.none(), null, out);
      }
      return html.toString();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report under " + dir, e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot write the report under " + dir + ": " + e.getMessage(), e);
    }
  }

  /** Renders the page to {@code out}; {@code rows}, when given, are listed at the end. */
  public static void render(RunDocument doc, Redactor redactor, Rows rows, Writer out) throws IOException {
    RunRecord run = doc.run();
    out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\n<title>PoisonGuard report: "
        + esc(run.pipeline()) + " " + esc(run.runId()) + "</title>\n<style>" + STYLE + "</style></head><body>\n");
    out.write("<h1>PoisonGuard report</h1>\n<p class=\"meta\">pipeline <b>" + esc(run.pipeline()) + "</b> · run <b>"
        + esc(run.runId()) + "</b> · started " + esc(String.valueOf(run.startedAt())) + " · finished "
        + esc(String.valueOf(run.finishedAt())) + "</p>\n");
    headline(doc, redactor, out);
    detectors(doc, out);
    reasons(doc, out);
    drift(doc, redactor, out);
    sources(doc, redactor, out);
    releases(doc.releases(), out);
    models(doc.models(), out);
    provenance(run, out);
    if (rows != null) {
      quarantined(rows, out);
    }
    out.write("</body></html>\n");
  }

  /**
   * The hardening table of each model trained on this run's clean version: clean accuracy, accuracy under white-box
   * and transferred PGD per budget with the guard's flag rates, and certified accuracy per poison budget.
   */
  private static void models(List<ModelRecord> models, Writer out) throws IOException {
    out.write("<h2>Hardened models</h2>\n");
    if (models.isEmpty()) {
      out.write("<p>No model was trained on this run's clean table.</p>\n");
      return;
    }
    for (ModelRecord m : models) {
      RobustnessReport r = JSON.readValue(m.evaluationJson(), RobustnessReport.class);
      out.write("<h3>" + esc(m.trainer()) + " · model " + esc(m.modelId()) + "</h3>\n<p class=\"meta\">trained "
          + esc(String.valueOf(m.trainedAt())) + " on " + m.trainRows() + " rows of <code>" + esc(m.cleanTable())
          + "</code> version " + m.cleanVersion() + ", seed " + m.seed() + ", fingerprint <code>"
          + esc(m.fingerprint().substring(0, 16)) + "</code>; saved to <code>" + esc(m.modelPath()) + "</code></p>\n");
      out.write("<p>Held-out rows " + r.rows() + ": clean accuracy <b>" + pct(r.cleanAccuracy())
          + "</b>; the squeezing guard flags " + pct(r.cleanFlagged()) + " of them as likely evasion.</p>\n");
      out.write("<table><tr><th>L∞ budget ε</th><th>white-box PGD</th><th>transferred PGD</th>"
          + "<th>guard flags (white-box)</th><th>guard flags (transferred)</th></tr>\n");
      double[][] white = new double[2][];
      double[][] black = new double[2][r.attacks().size()];
      List<double[]> whitePoints = new ArrayList<>();
      for (int i = 0; i < r.attacks().size(); i++) {
        RobustnessReport.Attack a = r.attacks().get(i);
        out.write("<tr><td>" + a.epsilon() + "</td><td>" + (a.whiteBox() == null ? "– (no gradient)"
            : pct(a.whiteBox())) + "</td><td>" + pct(a.blackBox()) + "</td><td>" + (a.whiteBoxFlagged() == null ? "–"
            : pct(a.whiteBoxFlagged())) + "</td><td>" + pct(a.blackBoxFlagged()) + "</td></tr>\n");
        black[0][i] = a.epsilon();
        black[1][i] = a.blackBox();
        if (a.whiteBox() != null) {
          whitePoints.add(new double[] {a.epsilon(), a.whiteBox()});
        }
      }
      white[0] = whitePoints.stream().mapToDouble(p -> p[0]).toArray();
      white[1] = whitePoints.stream().mapToDouble(p -> p[1]).toArray();
      out.write("</table>\n<div class=\"charts\">");
      Map<String, double[][]> attacks = new LinkedHashMap<>();
      attacks.put("white-box", white);
      attacks.put("transferred", black);
      out.write(img(ReportCharts.lines("accuracy under PGD", "L∞ budget ε", attacks), "accuracy under attack"));
      if (!r.certified().isEmpty()) {
        double[][] curve = new double[2][r.certified().size()];
        for (int i = 0; i < r.certified().size(); i++) {
          curve[0][i] = r.certified().get(i).radius();
          curve[1][i] = r.certified().get(i).accuracy();
        }
        out.write(img(ReportCharts.lines("certified accuracy", "poisoned training rows r",
            Map.of("certified", curve)), "certified accuracy against poisoned rows"));
      }
      out.write("</div>\n");
    }
  }

  private static String pct(double share) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * share);
  }

  private static void headline(RunDocument doc, Redactor redactor, Writer out) throws IOException {
    RunRecord run = doc.run();
    out.write("<div class=\"cards\">" + card("rows read", run.rowsRead()) + card("clean", run.clean())
        + card("quarantined", run.quarantined()) + card("rejected", run.rejected())
        + "<div class=\"card gate " + esc(run.gate()) + "\"><div class=\"n\">" + esc(run.gate().toUpperCase(Locale.ROOT))
        + "</div><div>gate</div></div></div>\n");
    boolean balanced = run.rowsRead() == run.clean() + run.quarantined() + run.rejected();
    out.write("<p>Accounting: rows read " + run.rowsRead() + (balanced ? " = " : " ≠ ") + "clean " + run.clean()
        + " + quarantined " + run.quarantined() + " + rejected " + run.rejected() + (balanced ? " (holds)." : ".")
        + ("fail".equals(run.gate()) ? " The gate failed: the clean rows are held in <code>staged</code>." : "")
        + "</p>\n");
    if (!run.gateReasons().isEmpty()) {
      out.write("<ul class=\"gate-reasons\">");
      for (String r : run.gateReasons()) {
        out.write("<li>" + esc(redactor.reason(r)) + "</li>");
      }
      out.write("</ul>\n");
    }
  }

  private static void detectors(RunDocument doc, Writer out) throws IOException {
    out.write("<h2>Detectors</h2>\n<p>Each chart shows a detector's score for kept and quarantined rows (each as a "
        + "share of its group) and the lowest score at which the detector was among a flagged row's reasons. "
        + "<code>poison_score</code> is the combined evidence the flag is set on.</p>\n");
    Map<String, Object> detection = doc.detection();
    if (detection.get("flag_level") instanceof Double level) {
      Object share = detection.get("contamination_share");
      out.write("<p>Rows were flagged at a combined p-value of at most " + num(level)
          + ("off".equals(detection.get("contamination")) ? " (the target false-positive rate)"
              : " (contamination " + esc(String.valueOf(detection.get("contamination"))) + ", share "
                  + (share instanceof Double d ? num(d) : "?") + ", never below the target false-positive rate)")
          + ".</p>\n");
    }
    out.write("<table><tr><th>detector</th><th>rows scored</th><th>fired on</th><th>p50</th><th>p90</th>"
        + "<th>p99</th><th>max</th><th>lowest fired</th></tr>\n");
    for (RunDocument.DetectorStat d : doc.detectors()) {
      out.write("<tr><td>" + esc(d.detector()) + "</td><td>" + d.scored() + " of " + d.rows() + "</td><td>" + d.fired()
          + "</td><td>" + num(d.p50()) + "</td><td>" + num(d.p90()) + "</td><td>" + num(d.p99()) + "</td><td>"
          + num(d.max()) + "</td><td>" + num(d.lowestFired()) + "</td></tr>\n");
    }
    out.write("</table>\n<div class=\"charts\">");
    for (RunDocument.DetectorStat d : doc.detectors()) {
      if (d.edges().length > 0) {
        out.write(img(ReportCharts.histogram(d), "score distribution of " + d.detector()));
      }
    }
    out.write("</div>\n");
  }

  private static void reasons(RunDocument doc, Writer out) throws IOException {
    out.write("<h2>Quarantine reasons</h2>\n");
    Map<String, Long> reasons = doc.reasons();
    if (reasons.isEmpty()) {
      out.write("<p>No row was quarantined.</p>\n");
      return;
    }
    out.write("<p>Rows whose reasons include each code (a row can carry several).</p>\n");
    out.write(img(ReportCharts.bars("quarantined rows by reason", "rows", reasons), "quarantine reasons"));
    table(out, List.of("reason", "rows"), reasons.entrySet().stream()
        .map(e -> List.of(e.getKey(), Long.toString(e.getValue()))).toList());
  }

  private static void drift(RunDocument doc, Redactor redactor, Writer out) throws IOException {
    out.write("<h2>Drift against the reference</h2>\n");
    Map<String, Double> psi = doc.psi();
    if (psi.isEmpty()) {
      out.write("<p>No reference to compare with (the pipeline's first run and no <code>reference</code>): "
          + "drift was not measured.</p>\n");
      return;
    }
    out.write(img(ReportCharts.bars("population stability index per feature (largest first)", "PSI", psi),
        "PSI per feature"));
    table(out, List.of("feature", "PSI"), psi.entrySet().stream().map(e -> List.of(e.getKey(), num(e.getValue())))
        .toList());
    Map<String, Double> shares = doc.labelShareChange();
    if (!shares.isEmpty()) {
      out.write("<h3>Label shares</h3>\n");
      table(out, List.of("class", "share change"), shares.entrySet().stream()
          .map(e -> List.of(redactor.labelValue(e.getKey()), num(e.getValue()))).toList());
    }
  }

  private static void sources(RunDocument doc, Redactor redactor, Writer out) throws IOException {
    out.write("<h2>Suspicion per source</h2>\n");
    List<RunDocument.SourceLine> sources = doc.sources();
    Map<String, Double> shares = new LinkedHashMap<>();
    sources.forEach(s -> shares.put(String.valueOf(redactor.sourceValue(s.source())), s.share()));
    out.write(img(ReportCharts.bars("share of each source's rows quarantined", "flagged share", shares),
        "flagged share per source"));
    table(out, List.of("source", "rows", "quarantined", "share", "flagged as a whole"), sources.stream()
        .map(s -> List.of(String.valueOf(redactor.sourceValue(s.source())), Long.toString(s.rows()),
            Long.toString(s.flagged()), num(s.share()),
            s.wholeReason() == null ? "" : redactor.reason(s.wholeReason()))).toList());
  }

  private static void releases(List<ReleaseRecord> releases, Writer out) throws IOException {
    out.write("<h2>Releases</h2>\n");
    if (releases.isEmpty()) {
      out.write("<p>No quarantined row of this run has been released.</p>\n");
      return;
    }
    table(out, List.of("release", "when", "reviewer", "reason", "rows", "to"), releases.stream()
        .map(r -> List.of(r.releaseId(), String.valueOf(r.releasedAt()), String.valueOf(r.reviewer()), r.reason(),
            Long.toString(r.rows()), r.target())).toList());
  }

  private static void provenance(RunRecord run, Writer out) throws IOException {
    out.write("<h2>Provenance</h2>\n");
    try {
      JsonNode outputs = JSON.readTree(run.outputsJson());
      StringBuilder versions = new StringBuilder();
      outputs.fields().forEachRemaining(e -> versions.append(e.getKey().toLowerCase(Locale.ROOT)).append(" v")
          .append(e.getValue().asText()).append("  "));
      table(out, List.of("item", "value"), List.of(
          List.of("pipeline file", run.pipelineFile() + " (sha256 " + run.pipelineSha256() + ")"),
          List.of("inputs", run.inputsJson()),
          List.of("tables written (Delta versions)", versions.toString().trim()),
          List.of("seconds per stage", run.timingsJson()),
          List.of("software", run.softwareJson()),
          List.of("seed", Long.toString(run.seed())),
          List.of("record hash", run.recordHash()),
          List.of("previous record", run.previousHash().isEmpty() ? "(first run of the pipeline)"
              : run.previousHash())));
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("the run record's outputs are not JSON: " + e.getMessage(), e);
    }
  }

  private static void quarantined(Rows rows, Writer out) throws IOException {
    out.write("<h2>Quarantined rows</h2>\n<table class=\"rows\"><tr>");
    for (String c : rows.columns()) {
      out.write("<th>" + esc(c) + "</th>");
    }
    out.write("</tr>\n");
    Iterator<String[]> it = rows.iterator();
    while (it.hasNext()) {
      out.write("<tr>");
      for (String v : it.next()) {
        out.write("<td>" + esc(v == null ? "" : v) + "</td>");
      }
      out.write("</tr>\n");
    }
    out.write("</table>\n");
  }

  private static void table(Writer out, List<String> header, List<List<String>> rows) throws IOException {
    out.write("<table><tr>");
    for (String h : header) {
      out.write("<th>" + esc(h) + "</th>");
    }
    out.write("</tr>\n");
    for (List<String> r : rows) {
      out.write("<tr>");
      for (String v : r) {
        out.write("<td>" + esc(v) + "</td>");
      }
      out.write("</tr>\n");
    }
    out.write("</table>\n");
  }

  private static String card(String label, long n) {
    return "<div class=\"card\"><div class=\"n\">" + String.format(Locale.ROOT, "%,d", n) + "</div><div>"
        + esc(label) + "</div></div>";
  }

  private static String img(String dataUri, String alt) {
    return "<img src=\"" + dataUri + "\" alt=\"" + esc(alt) + "\">\n";
  }

  private static String num(Double v) {
    return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%.4g", v);
  }

  /** Text made safe for HTML element content and attribute values. */
  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static final String STYLE = """
      body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1300px;color:#222}
      h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
      .meta{color:#555}
      .cards{display:flex;gap:1em;flex-wrap:wrap;margin:1em 0}
      .card{border:1px solid #ccc;border-radius:6px;padding:.6em 1.2em;text-align:center;min-width:7em}
      .card .n{font-size:1.6em;font-weight:600}
      .gate.pass{background:#e3f4e1}.gate.warn{background:#fff4d6}.gate.fail{background:#fbe0e0}
      table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
      th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
      th{background:#f4f4f4}
      table.rows td{font-family:ui-monospace,monospace;font-size:.85em}
      .charts{display:flex;flex-wrap:wrap;gap:.5em}
      img{max-width:100%}
      code{background:#f4f4f4;padding:0 .2em}
      """;
}
