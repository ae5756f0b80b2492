package io.poisonguard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.delta.tables.DeltaTable;
import io.poisonguard.audit.AuditLog;
import io.poisonguard.audit.ModelRecord;
import io.poisonguard.audit.RunRecord;
import io.poisonguard.config.ConfigException;
import io.poisonguard.config.PipelineLoader;
import io.poisonguard.evaluate.RobustnessReport;
import io.poisonguard.sanitize.Verdict;
import io.poisonguard.sanitize.VerdictTables;
import io.poisonguard.spark.SparkSessions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import java.util.UUID;
import org.apache.spark.sql.SparkSession;

/**
 * {@code poisonguard train}: the training step alone, on the pipeline's clean table at its latest or a given Delta
 * version; the same trainer, hardening and evaluation {@code run} applies after a passing gate.
 */
public final class TrainCommand implements Command {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return "train";
  }

  @Override
  public String summary() {
    return "train the pipeline's hardened model on its clean table (latest or --version N)";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard train --pipeline FILE [options]

          --pipeline FILE   pipeline definition with a train: section (see README.md, "Hardened training")
          --version N       Delta version of the clean table to train on (default: the latest)
          --warehouse DIR   where the Delta tables live (default ./warehouse)
          --master URL      Spark master
          --set KEY=VALUE   override a pipeline value, e.g. --set train.adversarial.epsilon=0.2 (repeatable)

        Saves the model under WAREHOUSE/<pipeline>/models/<model id> and records it in _audit/models.
        """;
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Args args = Args.parse(name(), argv, Set.of("pipeline", "version", "warehouse", "master", "set"), Set.of());
    if (!args.positional().isEmpty()) {
      throw new ConfigException("train: unexpected argument '" + args.positional().get(0) + "'");
    }
    PipelineLoader.Loaded loaded = PipelineLoader.load(Path.of(args.require("pipeline")), args.all("set"));
    if (loaded.config().train() == null) {
      throw new ConfigException(loaded.file() + ": no 'train' section; add one (pipelines/quickstart-hardened.yaml "
          + "shows every key) to say how to train");
    }
    Long requested = args.get("version") == null ? null : parseVersion(args.get("version"));
    String warehouse = Path.of(args.get("warehouse", "warehouse")).toAbsolutePath().normalize().toString();
    SparkSession spark = SparkSessions.create("poisonguard-train-" + loaded.config().name(),
        args.get("master", loaded.config().spark().master()), loaded.config().spark().conf());
    VerdictTables tables = new VerdictTables(spark, warehouse + "/" + loaded.config().name());
    if (!tables.exists(Verdict.CLEAN)) {
      throw new ConfigException("--pipeline: " + tables.path(Verdict.CLEAN) + " does not exist yet; run "
          + "'poisonguard run --pipeline " + args.require("pipeline") + "' until a batch passes the gate");
    }
    long latest = DeltaTable.forPath(spark, tables.path(Verdict.CLEAN)).history(1).select("version").head()
        .getLong(0);
    long version = requested == null ? latest : requested;
    if (version > latest) {
      throw new ConfigException("--version: the clean table's latest version is " + latest + ", got " + version);
    }
    String modelId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now())
        + "-" + UUID.randomUUID().toString().substring(0, 8);
    out.printf("training %s on %s version %d%n", loaded.config().train().trainer(), tables.path(Verdict.CLEAN),
        version);
    ModelRecord record = new ModelTraining(spark, loaded.config(), warehouse)
        .train(modelId, runThatWrote(new AuditLog(spark, warehouse), loaded.config().name(), version), version);
    out.print(describe(record));
    return ExitCodes.OK;
  }

  /** The model's record and evaluation as the console shows them. */
  static String describe(ModelRecord record) throws Exception {
    RobustnessReport report = JSON.readValue(record.evaluationJson(), RobustnessReport.class);
    StringBuilder s = new StringBuilder();
    s.append(String.format("model %s (%s) trained on %d rows of clean v%d, fingerprint %s%n  saved to %s%n",
        record.modelId(), record.trainer(), record.trainRows(), record.cleanVersion(),
        record.fingerprint().substring(0, 12), record.modelPath()));
    s.append(String.format("  held-out rows %d: clean accuracy %.3f, guard flags %.1f%% of them%n", report.rows(),
        report.cleanAccuracy(), 100 * report.cleanFlagged()));
    for (RobustnessReport.Attack a : report.attacks()) {
      s.append(String.format("  PGD L∞ ε=%-5s white-box %s, transferred %.3f%n", a.epsilon(),
          a.whiteBox() == null ? "n/a (no gradient)" : String.format("%.3f", a.whiteBox()), a.blackBox()));
    }
    if (!report.certified().isEmpty()) {
      StringBuilder curve = new StringBuilder();
      for (RobustnessReport.Certified c : report.certified()) {
        if (c.radius() <= 10 || c.radius() % 5 == 0) {
          curve.append(String.format(" r=%d:%.3f", c.radius(), c.accuracy()));
        }
      }
      s.append("  certified accuracy against r poisoned rows:").append(curve).append('\n');
    }
    return s.toString();
  }

  private static long parseVersion(String text) {
    try {
      long v = Long.parseLong(text);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException ignored) {
      // reported below with the value given
    }
    throw new ConfigException("--version: expected a Delta version (0, 1, ...), got '" + text + "'");
  }

  /** The latest accepted run whose recorded outputs put the clean table at {@code version}, or null. */
  private static String runThatWrote(AuditLog audit, String pipeline, long version) throws Exception {
    String found = null;
    if (!audit.exists("runs")) {
      return null;
    }
    for (var row : audit.runs(pipeline)) {
      RunRecord run = RunRecord.fromRow(row);
      JsonNode outputs = run.outputsJson() == null ? null : JSON.readTree(run.outputsJson());
      if (run.accepted() && outputs != null && outputs.path(Verdict.CLEAN.name()).asLong(-1) == version) {
        found = run.runId();
      }
    }
    return found;
  }
}
