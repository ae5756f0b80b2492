package io.poisonguard.cli;

import io.poisonguard.audit.Releases;
import io.poisonguard.config.ConfigException;
import io.poisonguard.spark.SparkSessions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/** {@code poisonguard release}: a reviewer's decision to let quarantined rows of a run through, recorded. */
public final class ReleaseCommand implements Command {
  @Override
  public String name() {
    return "release";
  }

  @Override
  public String summary() {
    return "move reviewed rows of a run from quarantine back to clean, with a reason, as an audit record";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard release RUN_ID --ids FILE --reason "reviewed by ..." [options]

          --ids FILE          the _pg_id of each row to release, one per line (# comments and blank lines skipped);
                              every id must be a quarantined row of RUN_ID, or nothing is released
          --reason TEXT       who reviewed the rows and why they are safe (kept in the audit record)
          --reviewer NAME     who decided (default: $USER)
          --warehouse DIR     where the Delta tables live (default ./warehouse)
          --master URL        Spark master (default local[*])
          --verbose           show stack traces

        The rows go to clean (to staged when the run's gate failed) keeping their scores and reasons; the release
        is recorded in _audit/releases and its ids in _audit/released_rows. Rerunning the same release changes
        nothing; rerunning an interrupted one finishes it.
        """;
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Args args = Args.parse(name(), argv, Set.of("ids", "reason", "reviewer", "warehouse", "master"), Set.of());
    if (args.positional().size() != 1) {
      throw new ConfigException("release: give exactly one RUN_ID ('poisonguard audit list' shows them)");
    }
    String runId = args.positional().get(0);
    String warehouse = Path.of(args.get("warehouse", "warehouse")).toAbsolutePath().normalize().toString();
    String reviewer = args.get("reviewer", System.getenv().getOrDefault("USER", "unknown"));
    SparkSession spark = SparkSessions.create("poisonguard-release", args.get("master"), Map.of());
    Releases.Outcome outcome = new Releases(spark, warehouse).release(runId, args.require("ids"),
        args.require("reason"), reviewer);
    var r = outcome.record();
    out.println((outcome.made() ? "released " : "already released (nothing changed): ") + r.rows() + " row(s) of run "
        + r.runId() + " to " + r.target() + "  (release " + r.releaseId() + ")");
    return ExitCodes.OK;
  }
}
