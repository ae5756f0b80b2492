package io.poisonguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.poisonguard.config.ConfigException;
import io.poisonguard.config.DetectConfig;
import io.poisonguard.config.InputConfig;
import io.poisonguard.config.PipelineLoader;
import io.poisonguard.detect.DetectorRegistry;
import io.poisonguard.detect.PoisonScorer;
import io.poisonguard.detect.SourceFinding;
import io.poisonguard.detect.SourceInfluence;
import io.poisonguard.detect.SourceScreen;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SingleCsvWriter;
import io.poisonguard.spark.SparkSessions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * {@code poisonguard scan}: the detection step alone on any input, writing one score row per record. For ad-hoc
 * checks and for measuring the detectors against red-team ground truth; it writes no Delta tables.
 */
public final class ScanCommand implements Command {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override
  public String name() {
    return "scan";
  }

  @Override
  public String summary() {
    return "score any input with the detectors and write scores.csv (no tables, no gate)";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard scan --input FILE --label COL --out DIR [options]

          --input FILE        data to score (csv, json, parquet or delta; see --format)
          --label COL         label column
          --out DIR           writes DIR/scores.csv and DIR/summary.json
          --format F          csv (default), json, parquet, delta
          --id COL            id column (scores carry its values; otherwise the generated _pg_id)
          --source COL        column naming each row's feed
          --trusted FILE      a small clean sample the detectors fit on (same format and columns)
          --features A,B,..   feature columns (default: all but label, id and source)
          --target-fpr R      ensemble false-positive target (default 0.01)
          --contamination C   also flag at least this share of rows, most suspect first (0 < C <= 0.5), or auto:
                              the share the batch is estimated to hold (default off: the target alone)
          --seed N            seed (default 42)
          --set KEY=VALUE     detector settings as in a pipeline file, e.g. --set detectors.isolation_forest.num_trees=200
          --master URL        Spark master

        scores.csv columns: id, poison_score, flagged, reasons (';'-separated), then per detector score_<detector>
          (its raw score) and p_<detector> (that score's calibrated tail probability, which the ensemble weighs).
        """;
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Args args = Args.parse(name(), argv, Set.of("input", "label", "out", "format", "id", "source", "trusted",
        "features", "target-fpr", "contamination", "seed", "set", "master"), Set.of());
    List<String> features = args.get("features") == null ? null
        : Arrays.stream(args.get("features").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
    InputConfig input = new InputConfig(args.require("input"), args.get("format"), args.require("label"),
        args.get("id"), args.get("source"), features, null, null, null);
    DetectConfig detect = detectConfig(args);
    DetectorRegistry.validate(detect.detectors());
    long seed = args.getLong("seed", 42);
    Path outDir = Path.of(args.require("out"));
    Files.createDirectories(outDir);

    SparkSession spark = SparkSessions.create("poisonguard-scan", args.get("master"), Map.of());
    String runId = "scan";
    Ingestor ingestor = new Ingestor(spark);
    IngestedBatch batch = ingestor.read(input, runId);
    Optional<IngestedBatch> trusted = Optional.ofNullable(args.get("trusted")).map(path -> ingestor.read(
        new InputConfig(path, input.format(), input.label(), input.id(), input.source(), input.features(), null,
            null, null), runId));
    try {
      Dataset<Row> accepted = batch.accepted();
      PoisonScorer.Scored detected = PoisonScorer.fitAndScore(accepted,
          trusted.map(IngestedBatch::accepted).orElse(null), batch.features(), detect, seed);
      PoisonScorer.Fitted fitted = detected.fitted();
      Dataset<Row> rows = detected.rows();
      SourceScreen.Screened screened = SourceScreen.judge(rows, detect.targetFpr());
      List<SourceScreen.Verdict> sources = screened.verdicts();
      // a trusted sample too small for the detectors is too small to test sources on as well
      List<SourceInfluence.Verdict> sourceInfluence = trusted.filter(t -> detected.trustedSetAside().isEmpty())
          .map(t -> SourceInfluence.judge(fitted, accepted, t.accepted(), detect.targetFpr())).orElse(List.of());
      List<SourceFinding> findings = new ArrayList<>(sources);
      findings.addAll(sourceInfluence);
      Dataset<Row> scored = SourceFinding.flagRows(rows, findings);
      List<Column> columns = new ArrayList<>(List.of(
          Columns.col(input.id() == null ? Columns.ID : input.id()).as("id"),
          Columns.col(Columns.POISON_SCORE).as("poison_score"),
          Columns.col(Columns.FLAGGED).as("flagged"),
          functions.concat_ws(";", Columns.col(Columns.REASONS)).as("reasons")));
      for (String code : fitted.detectorCodes()) {
        columns.add(Columns.col(Columns.PREFIX + "score_" + code).as("score_" + code));
        columns.add(fitted.tailProbability(code).as("p_" + code));
      }
      SingleCsvWriter.write(scored.select(columns.toArray(Column[]::new)).orderBy("id"),
          outDir.resolve("scores.csv").toString());

      Row counts = scored.agg(functions.count(functions.lit(1)),
          functions.sum(functions.when(Columns.col(Columns.FLAGGED), 1).otherwise(0))).head();
      long rejected = batch.rejected().count();
      Map<String, Object> summary = new LinkedHashMap<>();
      summary.put("input", input.path());
      summary.put("rows_read", counts.getLong(0) + rejected);
      summary.put("scored", counts.getLong(0));
      summary.put("flagged", counts.isNullAt(1) ? 0 : counts.getLong(1));
      summary.put("rejected", rejected);
      summary.put("detectors", fitted.detectorCodes());
      summary.put("detectors_without_evidence", fitted.detectorsWithoutEvidence());
      summary.put("sources", sources);
      if (screened.skipped() != null) {
        summary.put("source_screen_skipped", screened.skipped());
      }
      summary.put("source_influence", sourceInfluence);
      summary.put("fitted_on", trusted.isPresent() && detected.trustedSetAside().isEmpty()
          ? "trusted:" + args.get("trusted") : "batch");
      detected.trustedSetAside().ifPresent(why -> summary.put("trusted_set_aside", why));
      summary.put("target_fpr", detect.targetFpr());
      summary.put("contamination", detect.contamination().describe());
      summary.put("contamination_share", fitted.contaminationShare());
      summary.put("flag_level", fitted.flagLevel());
      summary.put("seed", seed);
      JSON.writeValue(outDir.resolve("summary.json").toFile(), summary);
      detected.release();
      out.printf("scanned %d rows, flagged %s, rejected %d -> %s%n", counts.getLong(0), summary.get("flagged"),
          rejected, outDir.resolve("scores.csv"));
      detected.trustedSetAside().ifPresent(why ->
          out.println("--trusted " + args.get("trusted") + " set aside: " + why));
      if (!fitted.detectorsWithoutEvidence().isEmpty()) {
        out.printf("no reference row was scored by %s (too few rows per class?): no evidence from %s%n",
            String.join(", ", fitted.detectorsWithoutEvidence()),
            fitted.detectorsWithoutEvidence().size() == 1 ? "it" : "them");
      }
      return ExitCodes.OK;
    } finally {
      batch.release();
      trusted.ifPresent(IngestedBatch::release);
    }
  }

  /**
   * Detector settings from {@code --target-fpr}, {@code --contamination} and {@code --set detectors.NAME.KEY=VALUE},
   * read like a pipeline's.
   */
  private static DetectConfig detectConfig(Args args) {
    var tree = new ObjectMapper().createObjectNode();
    var detect = tree.putObject("detect");
    detect.put("target_fpr", args.getDouble("target-fpr", 0.01));
    if (args.get("contamination") != null) {
      detect.put("contamination", args.get("contamination"));
    }
    for (String set : args.all("set")) {
      if (!set.startsWith("detectors.")) {
        throw new ConfigException("scan: --set " + set + ": only detectors.NAME.KEY=VALUE can be set here");
      }
      PipelineLoader.applyOverride(detect, set);
    }
    tree.putObject("input").put("path", "-").put("label", "-");
    tree.put("name", "scan");
    return PipelineLoader.bind(tree, "scan options").detect();
  }
}
