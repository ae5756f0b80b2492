package io.poisonguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.poisonguard.config.ConfigException;
import io.poisonguard.config.InputConfig;
import io.poisonguard.detect.SourceInfluence;
import io.poisonguard.detect.SourceScreen;
import io.poisonguard.evaluate.DetectionEvaluator;
import io.poisonguard.evaluate.DetectionMetrics;
import io.poisonguard.evaluate.TrainingImpact;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.spark.SparkSessions;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/** {@code poisonguard evaluate}: detection metrics of a scan against red-team ground truth. */
public final class EvaluateCommand implements Command {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Override
  public String name() {
    return "evaluate";
  }

  @Override
  public String summary() {
    return "measure detection (ROC-AUC, PR-AUC, precision, recall, F1, recall at 1%/5% FPR) against ground truth";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard evaluate --scores FILE --truth FILE [options]

          --scores FILE       scores.csv written by scan (id, poison_score, flagged, reasons, score_<detector>...)
          --truth FILE        truth.csv written by redteam (id, poisoned, attack)
          --json FILE         also write the figures as JSON
          --train-test FILE   a clean test set (same columns as the data): adds the test accuracy of a model
                              trained on the truly clean rows, on all rows, and on the rows the guard kept
          --data FILE         with --train-test: the scanned data (e.g. redteam's data.csv)
          --label COL         with --train-test: the label column
          --id COL            with --train-test: the id column of --data (default id)
          --seed N            seed of the models (default 42)
          --master URL        Spark master
        """;
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Args args = Args.parse(name(), argv, Set.of("scores", "truth", "json", "train-test", "data", "label", "id",
        "seed", "master"), Set.of());
    String scoresPath = args.require("scores");
    String truthPath = args.require("truth");
    SparkSession spark = SparkSessions.create("poisonguard-evaluate", args.get("master"), Map.of());
    Dataset<Row> scores = readCsv(spark, scoresPath, "--scores", List.of("id", "poison_score", "flagged"));
    Dataset<Row> truth = readCsv(spark, truthPath, "--truth", List.of("id", "poisoned"));
    Dataset<Row> joined = scores.join(truth.select(functions.col("id"),
        functions.col("poisoned").cast("boolean").as("__truth")), "id").cache();
    long matched = joined.count();
    if (matched == 0) {
      throw new ConfigException("evaluate: no id of " + scoresPath + " is in " + truthPath
          + "; were they written for the same data?");
    }
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("scores", scoresPath);
    report.put("truth", truthPath);
    report.put("rows", matched);
    report.put("poisoned", joined.filter("__truth").count());
    Map<String, Map<String, Double>> metrics = new LinkedHashMap<>();
    metrics.put("ensemble", DetectionEvaluator.evaluate(joined, "poison_score", "flagged", "__truth").asMap());
    for (String column : detectorColumns(scores)) {
      metrics.put(column.substring("score_".length()),
          DetectionEvaluator.evaluate(joined, column, null, "__truth").asMap());
    }
    report.put("metrics", metrics);
    if (Arrays.asList(scores.columns()).contains("reasons")) {
      report.put("row_evidence_flag", rowEvidenceFlag(joined));
    }
    if (args.get("train-test") != null) {
      report.put("accuracy", accuracy(spark, args, joined));
    }
    out.print(table(report));
    if (args.get("json") != null) {
      JSON.writeValue(Path.of(args.get("json")).toFile(), report);
    }
    joined.unpersist();
    return ExitCodes.OK;
  }

  /**
   * The flag's figures counting only rows flagged by their own evidence: a whole-feed verdict ({@code source} or
   * {@code source_influence} reasons) flags every row of a feed, its unpoisoned rows included, by design.
   */
  private static Map<String, Double> rowEvidenceFlag(Dataset<Row> joined) {
    Column ownReason = functions.exists(functions.split(functions.col("reasons"), ";"), r -> functions.not(
        r.startsWith(SourceScreen.CODE + ":").or(r.startsWith(SourceInfluence.CODE + ":")).or(r.equalTo(""))));
    Dataset<Row> flagged = joined.withColumn("__own_flag", functions.col("flagged").cast("boolean")
        .and(functions.coalesce(ownReason, functions.lit(false))));
    Map<String, Double> all = DetectionEvaluator.evaluate(flagged, "poison_score", "__own_flag", "__truth").asMap();
    Map<String, Double> out = new LinkedHashMap<>();
    for (String key : List.of("precision", "recall", "f1", "fpr")) {
      out.put(key, all.get(key));
    }
    return out;
  }

  private static Map<String, Double> accuracy(SparkSession spark, Args args, Dataset<Row> joined) {
    String label = args.require("label");
    String id = args.get("id", "id");
    Ingestor ingestor = new Ingestor(spark);
    // the model's features are the test set's columns (less label and id): data-only columns such as a red-team
    // source column cannot be used on the test set
    IngestedBatch test = ingestor.read(new InputConfig(args.get("train-test"), "csv", label, null, null, null,
        null, null, null), "evaluate");
    List<String> features = test.features().allFeatures().stream().filter(f -> !f.equals(id)).toList();
    IngestedBatch data = ingestor.read(new InputConfig(args.require("data"), "csv", label, id, null, features, null,
        null, null), "evaluate");
    try {
      Dataset<Row> verdicts = joined.select(functions.col("id").cast("string").as(id),
          functions.col("__truth").as("__poisoned"), functions.col("flagged").cast("boolean").as("__flagged"));
      Dataset<Row> labelled = data.accepted().join(verdicts, id);
      return TrainingImpact.accuracies(labelled, test.accepted(), data.features(), "__poisoned", "__flagged",
          args.getLong("seed", 42));
    } finally {
      data.release();
      test.release();
    }
  }

  private static Dataset<Row> readCsv(SparkSession spark, String path, String option, List<String> required) {
    Dataset<Row> rows;
    try {
      rows = spark.read().option("header", "true").option("inferSchema", "true").csv(path);
    } catch (Exception e) {
      throw new ConfigException("evaluate: cannot read " + option + " " + path + "; check the path");
    }
    List<String> columns = Arrays.asList(rows.columns());
    for (String c : required) {
      if (!columns.contains(c)) {
        throw new ConfigException("evaluate: " + option + " " + path + " has no column '" + c + "'; columns are "
            + columns);
      }
    }
    return rows.withColumn("id", functions.col("id").cast("string"));
  }

  private static List<String> detectorColumns(Dataset<Row> scores) {
    List<String> columns = new ArrayList<>();
    for (String c : scores.columns()) {
      if (c.startsWith("score_")) {
        columns.add(c);
      }
    }
    return columns;
  }

  @SuppressWarnings("unchecked")
  private static String table(Map<String, Object> report) {
    StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%d rows, %d poisoned%n%n", report.get("rows"),
        report.get("poisoned")));
    s.append(String.format(Locale.ROOT, "%-20s %8s %8s %8s %8s %9s %8s %8s %8s%n", "detector", "ROC-AUC", "PR-AUC",
        "R@1%FPR", "R@5%FPR", "precision", "recall", "F1", "FPR"));
    for (var e : ((Map<String, Map<String, Double>>) report.get("metrics")).entrySet()) {
      Map<String, Double> m = e.getValue();
      s.append(String.format(Locale.ROOT, "%-20s %8.3f %8.3f %8.3f %8.3f %9s %8s %8s %8s%n", e.getKey(),
          m.get("roc_auc"), m.get("pr_auc"), m.get("recall_at_1pct_fpr"), m.get("recall_at_5pct_fpr"),
          fmt(m.get("precision")), fmt(m.get("recall")), fmt(m.get("f1")), fmt(m.get("fpr"))));
    }
    if (report.containsKey("row_evidence_flag")) {
      Map<String, Double> m = (Map<String, Double>) report.get("row_evidence_flag");
      s.append(String.format(Locale.ROOT, "%nflag by row evidence only (whole-feed verdicts left out): precision %s,"
          + " recall %s, F1 %s, FPR %s%n", fmt(m.get("precision")), fmt(m.get("recall")), fmt(m.get("f1")),
          fmt(m.get("fpr"))));
    }
    if (report.containsKey("accuracy")) {
      s.append("\ntest accuracy of a model trained on:\n");
      ((Map<String, Double>) report.get("accuracy")).forEach((k, v) ->
          s.append(String.format(Locale.ROOT, "  %-14s %.4f%n", k, v)));
    }
    return s.toString();
  }

  private static String fmt(Double v) {
    return v == null || v.isNaN() ? "–" : String.format(Locale.ROOT, "%.3f", v);
  }
}
