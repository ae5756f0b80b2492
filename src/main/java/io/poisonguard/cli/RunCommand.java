package io.poisonguard.cli;

import io.poisonguard.config.ConfigException;
import io.poisonguard.config.PipelineLoader;
import io.poisonguard.detect.DetectorRegistry;
import io.poisonguard.report.RunSummary;
import io.poisonguard.spark.SparkSessions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code poisonguard run}: the whole flow for one pipeline file. */
public final class RunCommand implements Command {
  @Override
  public String name() {
    return "run";
  }

  @Override
  public String summary() {
    return "ingest, profile, score, quarantine, gate and audit one batch (the scheduled job)";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard run --pipeline FILE [options]

          --pipeline FILE      pipeline definition (YAML), e.g. pipelines/quickstart.yaml
          --warehouse DIR      where the Delta tables live (default ./warehouse)
          --master URL         Spark master (default: spark.master, else local[*])
          --set KEY=VALUE      override a pipeline value, e.g. --set gate.max_quarantine_fraction=0 (repeatable)
          --output-json FILE   also write the run summary as JSON
          --verbose            show stack traces

        exit codes: 0 pass or warn, 3 gate failed (clean table untouched, batch held in staged/quarantine),
                    2 usage or configuration error, 1 internal failure
        """;
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Args args = Args.parse(name(), argv, Set.of("pipeline", "warehouse", "master", "set", "output-json"), Set.of());
    if (!args.positional().isEmpty()) {
      throw new ConfigException("run: unexpected argument '" + args.positional().get(0) + "'");
    }
    PipelineLoader.Loaded loaded = PipelineLoader.load(Path.of(args.require("pipeline")), args.all("set"));
    DetectorRegistry.validate(loaded.config().detect().detectors());
    String warehouse = Path.of(args.get("warehouse", "warehouse")).toAbsolutePath().normalize().toString();
    Path summaryFile = args.get("output-json") == null ? null : Path.of(args.get("output-json"));
    if (summaryFile != null) {
      requireWritableFile(summaryFile);
    }
    String master = args.get("master", loaded.config().spark().master());
    SparkSession spark = SparkSessions.create("poisonguard-" + loaded.config().name(), master,
        loaded.config().spark().conf());
    RunSummary summary = new GuardJob(spark, loaded, warehouse, out).run();
    out.print(summary.toTable());
    if (summaryFile != null) {
      summary.writeJson(summaryFile);
    }
    return "fail".equals(summary.gate()) ? ExitCodes.GATE_FAILED : ExitCodes.OK;
  }

  /** Refuses, before the run, a summary file the run could not write once its tables are committed. */
  private static void requireWritableFile(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    if (Files.isDirectory(file)) {
      throw new ConfigException("--output-json " + file + ": is a folder; give a file name");
    }
    if (parent != null && !Files.isDirectory(parent)) {
      throw new ConfigException("--output-json " + file + ": folder " + parent + " does not exist; create it first");
    }
  }
}
