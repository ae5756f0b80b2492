package io.poisonguard.cli;

import io.poisonguard.audit.AuditLog;
import io.poisonguard.audit.AuditVerifier;
import io.poisonguard.audit.ReleaseRecord;
import io.poisonguard.audit.Releases;
import io.poisonguard.audit.RunRecord;
import io.poisonguard.config.ConfigException;
import io.poisonguard.report.RunDocument;
import io.poisonguard.report.RunExport;
import io.poisonguard.spark.SparkSessions;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * {@code poisonguard audit list|show|export|verify}: reads the warehouse's audit trail, exports one run, and checks
 * the trail against the tables.
 */
public final class AuditCommand implements Command {
  /** Environment variable holding the redaction key when no key file is given. */
  static final String KEY_ENV = "POISONGUARD_REDACT_KEY";

  @Override
  public String name() {
    return "audit";
  }

  @Override
  public String summary() {
    return "list, show, export (json/csv/html, with redaction) and verify the audit trail of past runs";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard audit list [--pipeline NAME]
               poisonguard audit show RUN_ID
               poisonguard audit export RUN_ID --format json|csv|html --out DIR [--redact COL1,COL2]
               poisonguard audit verify [RUN_ID]

          --warehouse DIR       where the Delta tables live (default ./warehouse)
          --pipeline NAME       list: only this pipeline's runs
          --format F            export: json (run document and every quarantined row), csv (quarantined rows
                                with reasons and scores) or html (the report with every quarantined row)
          --out DIR             export: the folder the file is written to (nothing is written outside it)
          --redact COLS         export: replace these columns' values by keyed hashes (HMAC-SHA256) everywhere
                                in the output, including the reasons and summaries that quote them
          --redact-key-file F   export: the key for --redact (else $POISONGUARD_REDACT_KEY; else a random key,
                                so tokens only match within one export)
          --master URL          Spark master (default local[*])
          --verbose             show stack traces

        verify checks that audit tables were only appended to, that every run and release record matches its
        hash and follows the previous record of its pipeline, that each run's counts re-derive from the table
        versions it names, and that no table or report holds a run without a record.
        exit codes: 0 ok, 4 verify found a problem, 2 usage error (e.g. unknown run id), 1 internal failure
        """;
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Args args = Args.parse(name(), argv, Set.of("warehouse", "pipeline", "format", "out", "redact",
        "redact-key-file", "master"), Set.of());
    List<String> positional = args.positional();
    if (positional.isEmpty()) {
      throw new ConfigException("audit: say what to do: list, show RUN_ID, export RUN_ID or verify [RUN_ID]");
    }
    String action = positional.get(0);
    String runId = positional.size() > 1 ? positional.get(1) : null;
    if (positional.size() > 2) {
      throw new ConfigException("audit " + action + ": unexpected argument '" + positional.get(2) + "'");
    }
    if ((action.equals("show") || action.equals("export")) && runId == null) {
      throw new ConfigException("audit " + action + ": give the RUN_ID ('poisonguard audit list' shows them)");
    }
    String warehouse = Path.of(args.get("warehouse", "warehouse")).toAbsolutePath().normalize().toString();
    if (!Files.isDirectory(Path.of(warehouse)) && !warehouse.contains("://")) {
      throw new ConfigException("audit: warehouse " + warehouse + " does not exist; pass --warehouse DIR (the one "
          + "'poisonguard run' wrote to)");
    }
    SparkSession spark = SparkSessions.create("poisonguard-audit", args.get("master"), Map.of());
    return switch (action) {
      case "list" -> list(spark, warehouse, args.get("pipeline"), out);
      case "show" -> show(spark, warehouse, runId, out);
      case "export" -> export(spark, warehouse, runId, args, out);
      case "verify" -> verify(spark, warehouse, runId, out);
      default -> throw new ConfigException("audit: unknown action '" + action + "'; use list, show, export or "
          + "verify");
    };
  }

  private static int list(SparkSession spark, String warehouse, String pipeline, PrintStream out) {
    List<RunRecord> runs = new AuditLog(spark, warehouse).runs(pipeline).stream().map(RunRecord::fromRow).toList();
    Map<String, Long> released = new HashMap<>();
    new Releases(spark, warehouse).releases(pipeline).forEach(r -> released.merge(r.runId(), r.rows(), Long::sum));
    String format = "%-27s %-14s %-20s %-6s %10s %10s %11s %9s %9s%n";
    out.printf(Locale.ROOT, format, "RUN_ID", "PIPELINE", "FINISHED (UTC)", "GATE", "READ", "CLEAN", "QUARANTINED",
        "REJECTED", "RELEASED");
    for (RunRecord r : runs) {
      // a run whose writes failed shows that instead of its gate's verdict
      String outcome = RunRecord.OK.equals(r.status()) ? r.gate() : r.status();
      out.printf(Locale.ROOT, format, r.runId(), r.pipeline(), String.valueOf(r.finishedAt()).replace('T', ' ')
              .replaceAll("\\.\\d+Z$", "Z"), outcome, r.rowsRead(), r.clean(), r.quarantined(), r.rejected(),
          released.getOrDefault(r.runId(), 0L));
    }
    if (runs.isEmpty()) {
      out.println("(no runs" + (pipeline == null ? "" : " of pipeline " + pipeline) + " in " + warehouse + ")");
    }
    return ExitCodes.OK;
  }

  private static int show(SparkSession spark, String warehouse, String runId, PrintStream out) {
    RunDocument doc = RunDocument.load(spark, warehouse, runId);
    RunRecord r = doc.run();
    row(out, "run", r.runId());
    row(out, "pipeline", r.pipeline() + "  (" + r.pipelineFile() + ", sha256 " + r.pipelineSha256() + ")");
    row(out, "when", r.startedAt() + " .. " + r.finishedAt());
    row(out, "rows read", r.rowsRead() + " = clean " + r.clean() + " + quarantined " + r.quarantined()
        + " + rejected " + r.rejected());
    row(out, "gate", r.gate().toUpperCase(Locale.ROOT));
    r.gateReasons().forEach(reason -> row(out, "", "- " + reason));
    row(out, "inputs", r.inputsJson());
    if (RunRecord.OK.equals(r.status())) {
      row(out, "outputs", r.outputsJson() + "  (Delta versions after the run)");
    } else {
      row(out, "status", r.status() + ": " + r.outputsJson() + "  (the tables may hold part of the batch; rerun it)");
    }
    String label = "reasons";
    for (Map.Entry<String, Long> e : doc.reasons().entrySet()) {
      row(out, label, String.format(Locale.ROOT, "%-24s %d", e.getKey(), e.getValue()));
      label = "";
    }
    label = "detectors";
    for (RunDocument.DetectorStat d : doc.detectors()) {
      row(out, label, String.format(Locale.ROOT, "%-24s fired on %d of %d, p99 %s, lowest fired %s", d.detector(),
          d.fired(), d.scored(), num(d.p99()), num(d.lowestFired())));
      label = "";
    }
    label = "sources";
    for (RunDocument.SourceLine s : doc.sources().stream().limit(10).toList()) {
      row(out, label, String.format(Locale.ROOT, "%-24s %d of %d quarantined%s", s.source(), s.flagged(), s.rows(),
          s.wholeReason() == null ? "" : "  [" + s.wholeReason() + "]"));
      label = "";
    }
    label = "drift (PSI)";
    for (Map.Entry<String, Double> e : doc.psi().entrySet().stream().limit(5).toList()) {
      row(out, label, String.format(Locale.ROOT, "%-24s %.4f", e.getKey(), e.getValue()));
      label = "";
    }
    for (ReleaseRecord rel : doc.releases()) {
      row(out, "released", rel.rows() + " rows to " + rel.target() + " by " + rel.reviewer() + " at "
          + rel.releasedAt() + ": " + rel.reason() + "  (" + rel.releaseId() + ")");
    }
    row(out, "report", warehouse + "/" + r.pipeline() + "/reports/" + r.runId() + "/report.html");
    row(out, "record hash", r.recordHash());
    return ExitCodes.OK;
  }

  private static int export(SparkSession spark, String warehouse, String runId, Args args, PrintStream out)
      throws Exception {
    String format = args.require("format").toLowerCase(Locale.ROOT);
    Path dir = Path.of(args.require("out"));
    List<String> redact = args.get("redact") == null ? List.of()
        : Arrays.stream(args.get("redact").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    byte[] key = key(args, redact, out);
    Path file = new RunExport(spark, warehouse).export(runId, format, dir, redact, key);
    out.println("wrote " + file + (redact.isEmpty() ? "" : "  (redacted: " + String.join(", ", redact) + ")"));
    return ExitCodes.OK;
  }

  private static byte[] key(Args args, List<String> redact, PrintStream out) throws Exception {
    if (args.get("redact-key-file") != null) {
      Path file = Path.of(args.get("redact-key-file"));
      if (!Files.isReadable(file) || Files.size(file) == 0) {
        throw new ConfigException("audit export: --redact-key-file " + file + " is missing or empty; give a file "
            + "holding the secret key");
      }
      return Files.readAllBytes(file);
    }
    String env = System.getenv(KEY_ENV);
    if (env != null && !env.isEmpty()) {
      return env.getBytes(StandardCharsets.UTF_8);
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    if (!redact.isEmpty()) {
      out.println("note: no --redact-key-file or $" + KEY_ENV + ": a random key was used, so tokens match only "
          + "within this export");
    }
    return random;
  }

  private static int verify(SparkSession spark, String warehouse, String runId, PrintStream out) throws Exception {
    AuditVerifier.Result result = new AuditVerifier(spark, warehouse).verify(runId);
    if (result.ok()) {
      out.println("audit verified: " + result.runsChecked() + " run record(s), " + result.releasesChecked()
          + " release(s) and " + result.modelsChecked() + " model(s) in " + warehouse + " match their hashes, their "
          + "chain and the tables");
      return ExitCodes.OK;
    }
    out.println("audit verification FAILED for " + warehouse + " (" + result.problems().size() + " problem(s)):");
    result.problems().forEach(p -> out.println("  - " + p));
    return ExitCodes.AUDIT_FAILED;
  }

  private static void row(PrintStream out, String key, String value) {
    out.printf(Locale.ROOT, "  %-12s %s%n", key, value);
  }

  private static String num(Double v) {
    return v == null ? "–" : String.format(Locale.ROOT, "%.4g", v);
  }
}
