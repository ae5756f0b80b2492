package io.poisonguard.report;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.audit.AuditLog;
import io.poisonguard.audit.ReleaseRecord;
import io.poisonguard.audit.RunRecord;
import io.poisonguard.config.ConfigException;
import io.poisonguard.sanitize.Verdict;
import io.poisonguard.sanitize.VerdictTables;
import io.poisonguard.spark.Columns;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.StructField;

/**
 * {@code audit export}: one run as a JSON document ({@code RUN.json}: the run document and every quarantined row with
 * its reasons and scores), a CSV of the quarantined rows ({@code RUN-quarantine.csv}) or the HTML report with the
 * rows appended ({@code RUN.html}). Rows are those the run quarantined, read at the quarantine version the run wrote
 * (time travel, so later runs do not change an export), strongest first, with the release that let each one go if
 * any. Redaction happens in Spark before any row leaves the executors; rows then stream to the file one partition
 * at a time.
 */
public final class RunExport {
  /** Column naming the release that released a row, empty while it is still held. */
  public static final String RELEASED_BY = "_pg_released_by";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SparkSession spark;
  private final String warehouse;

  /** Exports from the warehouse at {@code warehouse}. */
  public RunExport(SparkSession spark, String warehouse) {
    this.spark = spark;
    this.warehouse = warehouse;
  }

  /** Writes the export of {@code runId} in {@code format} (json, csv or html) into {@code outDir}; returns the file. */
  public Path export(String runId, String format, Path outDir, List<String> redact, byte[] key) throws Exception {
    RunDocument doc = RunDocument.load(spark, warehouse, runId);
    Redactor redactor = new Redactor(key, redact, doc.column("label"), doc.column("source"), doc.column("id"));
    Dataset<Row> rows = redactedRows(doc, redact, redactor);
    Path dir = outDir.toAbsolutePath().normalize();
    Files.createDirectories(dir);
    String name = switch (format) {
      case "json" -> runId + ".json";
      case "csv" -> runId + "-quarantine.csv";
      case "html" -> runId + ".html";
      default -> throw new ConfigException("audit export: --format must be json, csv or html, not '" + format + "'");
    };
    Path file = dir.resolve(name).normalize();
    if (!file.getParent().equals(dir)) {
      throw new ConfigException("audit export: run id '" + runId + "' would write outside --out " + dir);
    }
    Path partial = dir.resolve("." + name + ".partial");
    try (Writer out = Files.newBufferedWriter(partial, StandardCharsets.UTF_8)) {
      switch (format) {
        case "json" -> json(doc, redactor, rows, out);
        case "csv" -> csv(display(rows), out);
        default -> HtmlReport.render(doc, redactor, display(rows), out);
      }
    }
    // a crash mid-export leaves the hidden partial file, never a truncated export under the real name
    Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  /** The run's quarantined rows as it wrote them, strongest first, with release ids, redacted. */
  private Dataset<Row> redactedRows(RunDocument doc, List<String> redact, Redactor redactor) throws Exception {
    String runId = doc.run().runId();
    if (!RunRecord.OK.equals(doc.run().status())) {
      throw new ConfigException("audit export: run " + runId + " " + doc.run().status() + " ("
          + doc.run().outputsJson() + "); its rows are not all in the tables, so there is nothing to export: rerun "
          + "its batch and export that run");
    }
    JsonNode version = JSON.readTree(doc.run().outputsJson()).get(Verdict.QUARANTINE.name());
    VerdictTables tables = new VerdictTables(spark, warehouse + "/" + doc.run().pipeline());
    if (version == null) {
      throw new IllegalStateException("run " + runId + " names no quarantine version in its audit record");
    }
    Dataset<Row> rows = tables.readAt(Verdict.QUARANTINE, version.asLong())
        .filter(Columns.col(Columns.RUN_ID).equalTo(runId));
    List<String> missing = redact.stream().filter(c -> !Arrays.asList(rows.columns()).contains(c)).toList();
    if (!missing.isEmpty()) {
      throw new ConfigException("audit export: --redact names " + missing + ", not columns of run " + runId
          + "'s rows; columns are " + String.join(", ", rows.columns()));
    }
    AuditLog audit = new AuditLog(spark, warehouse);
    List<String> releaseIds = doc.releases().stream().map(ReleaseRecord::releaseId).toList();
    Dataset<Row> joined = releaseIds.isEmpty() || !audit.exists("released_rows")
        ? rows.withColumn(RELEASED_BY, functions.lit(null).cast("string"))
        : rows.join(spark.read().format("delta").load(audit.path("released_rows"))
            .filter(functions.col("release_id").isin(releaseIds.toArray()))
            .select(functions.col(Columns.ID), functions.col("release_id").as(RELEASED_BY)),
            scala.jdk.javaapi.CollectionConverters.asScala(List.of(Columns.ID)).toSeq(), "left");
    List<String> order = new ArrayList<>(List.of(Columns.ID));
    Arrays.stream(joined.columns()).filter(c -> !c.equals(Columns.ID)).forEach(order::add);
    List<Column> out = new ArrayList<>();
    for (String c : order) {
      Column col = Columns.col(c);
      out.add((redactor.redacts(c) ? redactor.token(col) : c.equals(Columns.REASONS) ? redactor.reasons(col) : col)
          .as(c));
    }
    return joined.select(out.toArray(Column[]::new)).orderBy(Columns.col(Columns.POISON_SCORE).desc(),
        Columns.col(Columns.ID));
  }

  private static void json(RunDocument doc, Redactor redactor, Dataset<Row> rows, Writer out) throws Exception {
    Dataset<Row> lines = rows.select(functions.to_json(functions.struct(Arrays.stream(rows.columns())
        .map(Columns::col).toArray(Column[]::new))));
    try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
      g.useDefaultPrettyPrinter();
      g.writeStartObject();
      for (Map.Entry<String, Object> e : doc.toJson(redactor).entrySet()) {
        g.writeFieldName(e.getKey());
        JSON.writeValue(g, e.getValue());
      }
      g.writeFieldName("quarantined_rows");
      g.writeStartArray();
      // one partition at a time reaches the driver, so memory stays O(partition) however many rows there are
      Iterator<Row> it = lines.toLocalIterator();
      while (it.hasNext()) {
        g.writeRawValue(it.next().getString(0));
      }
      g.writeEndArray();
      g.writeEndObject();
    }
  }

  /** The rows as display text: reasons joined with "; ", everything else as Spark casts it to a string. */
  private static HtmlReport.Rows display(Dataset<Row> rows) {
    List<Column> text = new ArrayList<>();
    for (StructField f : rows.schema().fields()) {
      Column c = Columns.col(f.name());
      text.add((f.dataType() instanceof ArrayType ? functions.array_join(c, "; ") : c.cast("string")).as(f.name()));
    }
    Dataset<Row> shown = rows.select(text.toArray(Column[]::new));
    return new HtmlReport.Rows() {
      @Override
      public List<String> columns() {
        return List.of(shown.columns());
      }

      @Override
      public Iterator<String[]> iterator() {
        // streamed one partition at a time, as for JSON
        Iterator<Row> it = shown.toLocalIterator();
        return new Iterator<>() {
          @Override
          public boolean hasNext() {
            return it.hasNext();
          }

          @Override
          public String[] next() {
            Row r = it.next();
            String[] values = new String[r.size()];
            for (int i = 0; i < values.length; i++) {
              values[i] = r.isNullAt(i) ? null : r.getString(i);
            }
            return values;
          }
        };
      }
    };
  }

  private static void csv(HtmlReport.Rows rows, Writer out) throws IOException {
    BufferedWriter w = new BufferedWriter(out);
    w.write(String.join(",", rows.columns().stream().map(RunExport::csvField).toList()));
    w.write("\r\n");
    Iterator<String[]> it = rows.iterator();
    while (it.hasNext()) {
      String[] r = it.next();
      for (int i = 0; i < r.length; i++) {
        if (i > 0) {
          w.write(',');
        }
        w.write(r[i] == null ? "" : csvField(r[i]));
      }
      w.write("\r\n");
    }
    w.flush();
  }

  /** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
  static String csvField(String v) {
    boolean quote = v.indexOf(',') >= 0 || v.indexOf('"') >= 0 || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0;
    return quote ? '"' + v.replace("\"", "\"\"") + '"' : v;
  }
}
