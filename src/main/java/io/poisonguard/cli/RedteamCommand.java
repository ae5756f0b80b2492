package io.poisonguard.cli;

import io.poisonguard.config.InputConfig;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.redteam.AttackSpec;
import io.poisonguard.redteam.Attacks;
import io.poisonguard.redteam.RedTeam;
import io.poisonguard.spark.SparkSessions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** {@code poisonguard redteam}: inject a known attack into a dataset, with the ground truth kept apart. */
public final class RedteamCommand implements Command {
  private static final Set<String> ATTACK_OPTIONS = Set.of("target-class", "source-class", "base-class", "trigger",
      "lambda", "steps", "bases", "sources", "bad-source");

  @Override
  public String name() {
    return "redteam";
  }

  @Override
  public String summary() {
    return "inject a known poisoning attack; writes data.csv, truth.csv and attack.json";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard redteam --input FILE --label COL --attack NAME --rate R --seed N --out DIR [options]

          --input FILE      data to attack (csv, json, parquet or delta; see --format)
          --label COL       label column
          --attack NAME     %s
          --rate R          poisoned share of the output rows (source: flipped share of the bad feed)
          --seed N          seed of every choice (same seed, same files)
          --out DIR         writes DIR/data.csv, DIR/truth.csv (id,poisoned,attack), DIR/attack.json
          --format F        input format (default csv)
          --id COL          the input's id column (otherwise an id column is added)
        attack options:
          --source-class C, --target-class C   label-flip-targeted (default: largest to second largest);
                                               backdoor, clean-label, flood target
          --trigger f=v,...                    backdoor trigger (default: 3 features at their 99.9th percentile)
          --base-class C, --lambda L           clean-label base class and how far towards the victim (0.9)
          --steps N                            gradient ascent steps (100)
          --bases N                            flood: rows to copy (5)
          --sources N, --bad-source NAME       source: feeds (5) and the bad one (feed-0)
        """.formatted(String.join(", ", Attacks.names()));
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Set<String> options = new java.util.HashSet<>(Set.of("input", "label", "attack", "rate", "seed", "out",
        "format", "id", "master"));
    options.addAll(ATTACK_OPTIONS);
    Args args = Args.parse(name(), argv, options, Set.of());
    Map<String, String> attackOptions = new LinkedHashMap<>();
    for (String o : ATTACK_OPTIONS) {
      if (args.get(o) != null) {
        attackOptions.put(o, args.get(o));
      }
    }
    args.require("rate");
    AttackSpec spec = new AttackSpec(args.require("attack"), args.getDouble("rate", Double.NaN),
        args.getLong("seed", 42), attackOptions);
    Attacks.get(spec.attack());
    InputConfig input = new InputConfig(args.require("input"), args.get("format"), args.require("label"),
        args.get("id"), null, null, null, null, null);
    Path outDir = Path.of(args.require("out"));
    IngestedBatch batch = new Ingestor(SparkSessions.create("poisonguard-redteam", args.get("master"), Map.of()))
        .read(input, "redteam");
    try {
      Map<String, Object> record = RedTeam.run(batch, input.id(), spec, outDir);
      out.printf("%s: %d of %d rows poisoned (%.2f%%) -> %s%n", spec.attack(), (Long) record.get("poisoned_rows"),
          (Long) record.get("output_rows"), 100 * (Double) record.get("poisoned_share"), outDir);
      return ExitCodes.OK;
    } finally {
      batch.release();
    }
  }
}
