package io.poisonguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.poisonguard.cli.Main;
import io.poisonguard.config.InputConfig;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.redteam.Attacks;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SingleCsvWriter;
import io.poisonguard.spark.SparkSessions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * Detection benchmark driver (bench/detection runs it): every dataset × attack through the real commands —
 * {@code redteam}, {@code scan}, {@code evaluate --train-test} — on a fixed seed, and one table of the results in
 * {@code bench/results/detection.md} and {@code .json}. Each dataset is split 80/20 by a hash of the row id: the
 * attack poisons the 80%, the clean 20% is the test set of the accuracy triple. Large sets are sampled (said in
 * the table).
 *
 * <p>With {@code -Dpoisonguard.bench.trusted=true} the detectors are fitted on a trusted sample instead of the
 * batch: a further hash-chosen eighth of the 80% is held out clean, never attacked, and passed to {@code scan
 * --trusted}; the table goes to {@code detection-trusted.md} and {@code .json}. With
 * {@code -Dpoisonguard.bench.set=detectors.NAME.KEY=VALUE;...} every scan gets those settings (a detector that is
 * off by default switched on, say; {@code contamination=VALUE} is passed as {@code scan --contamination}) and the
 * files are named {@code detection[-trusted]-TAG} ({@code -Dpoisonguard.bench.tag}), so the default suite's tables
 * stay as they are.
 */
public final class DetectionBench {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final long SEED = 7;
  private static final boolean TRUSTED = Boolean.getBoolean("poisonguard.bench.trusted");
  /**
   * Detector settings for every scan of the run ({@code -Dpoisonguard.bench.set=detectors.NAME.KEY=VALUE;...}, as
   * {@code scan --set} takes them), e.g. to switch on a detector that is off by default.
   */
  private static final List<String> SETTINGS = java.util.Arrays.stream(System.getProperty("poisonguard.bench.set",
      "").split(";")).map(String::trim).filter(s -> !s.isEmpty()).toList();
  /** A setting that is the flag's contamination ({@code scan --contamination}), not a detector's. */
  private static final String CONTAMINATION = "contamination=";
  /** What the result files are named after when settings are given ({@code -Dpoisonguard.bench.tag}). */
  private static final String TAG = System.getProperty("poisonguard.bench.tag", "").trim();
  private static final String RESULT = (TRUSTED ? "detection-trusted" : "detection")
      + (SETTINGS.isEmpty() ? "" : "-" + (TAG.isEmpty() ? "settings" : TAG));

  /** A dataset of the benchmark: file, label, and how many rows to keep at most. */
  record DataSet(String name, String path, String label, long maxRows) {}

  /** An attack of the benchmark with its rate. */
  record AttackRun(String attack, double rate) {}

  static final List<DataSet> DATASETS = List.of(
      new DataSet("spambase", "data/spambase.csv", "type", Long.MAX_VALUE),
      new DataSet("shuttle", "data/shuttle.csv", "Class", 8000),
      new DataSet("letter", "data/letter.csv", "lettr", 8000),
      new DataSet("breast_cancer", "data/breast_cancer.csv", "diagnosis", Long.MAX_VALUE),
      new DataSet("digits", "data/digits.csv", "digit", Long.MAX_VALUE));

  static final List<AttackRun> ATTACKS = List.of(
      new AttackRun("label-flip", 0.1), new AttackRun("label-flip-targeted", 0.05), new AttackRun("backdoor", 0.05),
      new AttackRun("clean-label", 0.03), new AttackRun("gradient", 0.05), new AttackRun("outlier", 0.05),
      new AttackRun("flood", 0.05), new AttackRun("source", 0.3));

  private DetectionBench() {}

  public static void main(String[] args) throws Exception {
    Path work = Files.createTempDirectory("pg-detection-bench");
    // small batches: a few shuffle partitions beat the default's scheduling overhead
    SparkSession spark = SparkSessions.create("detection-bench", null, Map.of("spark.sql.shuffle.partitions", "2"));
    List<String> onlyDatasets = args.length > 0 && !args[0].isBlank() ? List.of(args[0].split(",")) : null;
    List<String> onlyAttacks = args.length > 1 && !args[1].isBlank() ? List.of(args[1].split(",")) : null;
    long started = System.nanoTime();
    List<Map<String, Object>> rows = new ArrayList<>();
    for (DataSet ds : DATASETS) {
      if (onlyDatasets != null && !onlyDatasets.contains(ds.name())) {
        continue;
      }
      Path split = work.resolve(ds.name());
      long[] sizes = split(spark, ds, split);
      for (AttackRun a : ATTACKS) {
        if (onlyAttacks != null && !onlyAttacks.contains(a.attack())) {
          continue;
        }
        long t0 = System.nanoTime();
        Map<String, Object> row = runOne(ds, a, split, work.resolve(ds.name() + "-" + a.attack()));
        row.put("train_rows", sizes[0]);
        row.put("test_rows", sizes[1]);
        row.put("seconds", Math.round((System.nanoTime() - t0) / 1e8) / 10.0);
        rows.add(row);
        System.out.printf(Locale.ROOT, "%s / %s done in %.0f s%n", ds.name(), a.attack(), (Double) row.get("seconds"));
      }
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("commit", args.length > 2 ? args[2] : "unknown");
    result.put("date", java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString());
    result.put("seed", SEED);
    result.put("minutes", Math.round((System.nanoTime() - started) / 6e9) / 10.0);
    result.put("rows", rows);
    Path out = Path.of("bench/results");
    Files.createDirectories(out);
    result.put("fitted_on", TRUSTED ? "trusted sample" : "batch");
    result.put("settings", SETTINGS);
    JSON.writeValue(out.resolve(RESULT + ".json").toFile(), result);
    Files.writeString(out.resolve(RESULT + ".md"), markdown(result));
    System.out.print(Files.readString(out.resolve(RESULT + ".md")));
    System.exit(0);
  }

  /**
   * Writes the 80% to attack and the clean 20% test set as CSV (in trusted mode an eighth of the 80% goes to
   * a clean trusted sample instead); returns the sizes of the attacked part and the test set.
   */
  private static long[] split(SparkSession spark, DataSet ds, Path dir) throws Exception {
    IngestedBatch batch = new Ingestor(spark).read(new InputConfig(ds.path(), "csv", ds.label(), null, null, null,
        null, null, null), "bench");
    try {
      Column bucket = functions.pmod(functions.xxhash64(functions.col(Columns.ID), functions.lit(SEED)),
          functions.lit(1000L));
      long total = batch.accepted().count();
      double keep = Math.min(1.0, ds.maxRows() / (double) total);
      Column[] userColumns = java.util.Arrays.stream(batch.accepted().columns())
          .filter(c -> !c.startsWith(Columns.PREFIX)).map(Columns::col).toArray(Column[]::new);
      Dataset<Row> kept = batch.accepted().filter(bucket.lt(Math.round(1000 * keep)));
      Column inTest = functions.pmod(functions.xxhash64(functions.col(Columns.ID), functions.lit(SEED + 1)),
          functions.lit(5L)).equalTo(0);
      Column inTrusted = functions.lit(TRUSTED).and(functions.pmod(functions.xxhash64(functions.col(Columns.ID),
          functions.lit(SEED + 2)), functions.lit(8L)).equalTo(0));
      Dataset<Row> train = kept.filter(functions.not(inTest).and(functions.not(inTrusted))).select(userColumns);
      Dataset<Row> test = kept.filter(inTest).select(userColumns);
      if (TRUSTED) {
        // scan reads the trusted file with the batch's settings, so it needs the id column redteam adds, and
        // for the source attack the source column too
        Column[] withId = java.util.Arrays.copyOf(userColumns, userColumns.length + 1);
        withId[userColumns.length] = functions.col(Columns.ID).as("id");
        Dataset<Row> trusted = kept.filter(functions.not(inTest).and(inTrusted)).select(withId);
        SingleCsvWriter.write(trusted, dir.resolve("trusted.csv").toString());
        SingleCsvWriter.write(trusted.withColumn("source", functions.lit("trusted")),
            dir.resolve("trusted-source.csv").toString());
      }
      SingleCsvWriter.write(train, dir.resolve("train.csv").toString());
      SingleCsvWriter.write(test, dir.resolve("test.csv").toString());
      return new long[] {train.count(), test.count()};
    } finally {
      batch.release();
    }
  }

  /** The contamination setting of the run as the table's text gives it, or nothing. */
  private static String contamination() {
    return SETTINGS.stream().filter(x -> x.startsWith(CONTAMINATION)).findFirst()
        .map(x -> ", widened to at least a contamination of " + x.substring(CONTAMINATION.length())).orElse("");
  }

  private static Map<String, Object> runOne(DataSet ds, AttackRun a, Path split, Path out) throws Exception {
    Path rt = out.resolve("rt");
    call("redteam", "--input", split.resolve("train.csv").toString(), "--label", ds.label(), "--attack",
        a.attack(), "--rate", Double.toString(a.rate()), "--seed", Long.toString(SEED), "--out", rt.toString());
    List<String> scan = new ArrayList<>(List.of("scan", "--input", rt.resolve("data.csv").toString(), "--label",
        ds.label(), "--id", "id", "--out", out.resolve("scan").toString(), "--seed", Long.toString(SEED)));
    if (a.attack().equals("source")) {
      scan.addAll(List.of("--source", "source"));
    }
    for (String setting : SETTINGS) {
      scan.addAll(setting.startsWith(CONTAMINATION) ? List.of("--contamination",
          setting.substring(CONTAMINATION.length())) : List.of("--set", setting));
    }
    if (TRUSTED) {
      scan.addAll(List.of("--trusted",
          split.resolve(a.attack().equals("source") ? "trusted-source.csv" : "trusted.csv").toString()));
    }
    call(scan.toArray(String[]::new));
    Path json = out.resolve("evaluate.json");
    call("evaluate", "--scores", out.resolve("scan/scores.csv").toString(), "--truth",
        rt.resolve("truth.csv").toString(), "--json", json.toString(), "--train-test",
        split.resolve("test.csv").toString(), "--data", rt.resolve("data.csv").toString(), "--label", ds.label(),
        "--seed", Long.toString(SEED));
    JsonNode e = JSON.readTree(json.toFile());
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("dataset", ds.name());
    row.put("attack", a.attack());
    row.put("rate", a.rate());
    row.put("rows", e.get("rows").asLong());
    row.put("poisoned", e.get("poisoned").asLong());
    row.put("sampled", ds.maxRows() != Long.MAX_VALUE);
    Map<String, Object> metrics = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = e.get("metrics").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> m = it.next();
      metrics.put(m.getKey(), JSON.convertValue(m.getValue(), Map.class));
    }
    row.put("metrics", metrics);
    row.put("row_evidence_flag", JSON.convertValue(e.get("row_evidence_flag"), Map.class));
    row.put("accuracy", JSON.convertValue(e.get("accuracy"), Map.class));
    JsonNode summary = JSON.readTree(out.resolve("scan/summary.json").toFile());
    row.put("fitted_on", summary.path("fitted_on").asText());
    if (summary.has("trusted_set_aside")) {
      row.put("trusted_set_aside", summary.get("trusted_set_aside").asText());
    }
    return row;
  }

  private static void call(String... argv) {
    int code = Main.run(argv, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()), System.err);
    if (code != 0) {
      throw new IllegalStateException("exit " + code + ": " + String.join(" ", argv));
    }
  }

  @SuppressWarnings("unchecked")
  private static String markdown(Map<String, Object> result) {
    List<Map<String, Object>> rows = (List<Map<String, Object>>) result.get("rows");
    List<String> detectors = new ArrayList<>();
    for (Map<String, Object> r : rows) {
      for (String d : ((Map<String, Object>) r.get("metrics")).keySet()) {
        if (!d.equals("ensemble") && !detectors.contains(d)) {
          detectors.add(d);
        }
      }
    }
    StringBuilder md = new StringBuilder("# Detection benchmark\n\n");
    md.append(String.format(Locale.ROOT, "Commit %s, %s, seed %s, %s minutes on this machine. Produced by "
        + "`%s%sbench/detection`. Detectors fitted and calibrated on the %s.%n%n", result.get("commit"),
        result.get("date"), result.get("seed"), result.get("minutes"), TRUSTED ? "TRUSTED=true " : "",
        SETTINGS.isEmpty() ? "" : "SET='" + String.join(";", SETTINGS) + "' TAG=" + TAG + " ",
        TRUSTED ? "trusted sample (a clean, never attacked eighth of the 80% part, `scan --trusted`)"
            : "batch itself (no trusted sample)"));
    md.append("Each cell is ROC-AUC / recall at 1% false-positive rate of the score against the red team's ground "
        + "truth. *ensemble* is `_pg_poison_score`; its *FPR* column is the measured false-positive rate of "
        + "`_pg_flagged` (target 1%" + contamination() + ") on clean rows, *recall* its recall. Accuracy: test "
        + "accuracy of a logistic "
        + "model trained on the truly clean rows / all poisoned data / the rows the guard kept. "
        + "Shuttle and Letter are sampled to 8000 rows (marked *); every set is split 80/20, the 20% being "
        + "the clean test set. Rates: share of output rows poisoned (source: flipped share of the bad feed). On "
        + "the source attack `_pg_flagged` includes the whole-feed verdict (`source:` reasons), so the unflipped "
        + "rows of a flagged feed count as false positives there; the FPR of the row-level evidence alone "
        + "follows in brackets.\n\n");
    md.append("| dataset | attack | rate | ensemble | FPR | recall |");
    detectors.forEach(d -> md.append(' ').append(d).append(" |"));
    md.append(" accuracy clean / poisoned / guarded |\n|---|---|---:|---:|---:|---:|");
    detectors.forEach(d -> md.append("---:|"));
    md.append("---|\n");
    for (Map<String, Object> r : rows) {
      Map<String, Map<String, Object>> m = (Map<String, Map<String, Object>>) r.get("metrics");
      Map<String, Object> acc = (Map<String, Object>) r.get("accuracy");
      md.append(String.format(Locale.ROOT, "| %s%s%s | %s | %s | %s | %s | %s |", r.get("dataset"),
          Boolean.TRUE.equals(r.get("sampled")) ? "*" : "", r.containsKey("trusted_set_aside") ? "†" : "",
          r.get("attack"), r.get("rate"), cell(m.get("ensemble")),
          fpr(r), num(m.get("ensemble").get("recall"))));
      for (String d : detectors) {
        md.append(' ').append(m.containsKey(d) ? cell(m.get(d)) : "–").append(" |");
      }
      md.append(String.format(Locale.ROOT, " %s / %s / %s |%n", num(acc.get("clean_only")),
          num(acc.get("all_poisoned")), num(acc.get("guard_kept"))));
    }
    // one note per dataset: its attacks share the trusted sample (or its copy with a source column)
    Map<Object, Object> setAside = new LinkedHashMap<>();
    rows.stream().filter(r -> r.containsKey("trusted_set_aside"))
        .forEach(r -> setAside.putIfAbsent(r.get("dataset"), r.get("trusted_set_aside")));
    setAside.forEach((dataset, why) -> md.append(String.format(Locale.ROOT, "%n† %s: the trusted sample was set "
        + "aside and the detectors fitted on the batch itself (`scan` summary, `trusted_set_aside`): %s.%n",
        dataset, why)));
    md.append(verdicts(rows, detectors));
    return md.toString();
  }

  /**
   * Against the detector suite's targets: on how many rows the ensemble's ROC-AUC is within 0.01 of the best
   * single detector (or above), and the measured false-positive rate against the 2% ceiling.
   */
  @SuppressWarnings("unchecked")
  private static String verdicts(List<Map<String, Object>> rows, List<String> detectors) {
    int close = 0;
    int withinFpr = 0;
    double worstFpr = 0;
    int withinOwnFpr = 0;
    double worstOwnFpr = 0;
    List<String> behind = new ArrayList<>();
    for (Map<String, Object> r : rows) {
      Map<String, Map<String, Object>> m = (Map<String, Map<String, Object>>) r.get("metrics");
      double ensemble = ((Number) m.get("ensemble").get("roc_auc")).doubleValue();
      double best = Double.NEGATIVE_INFINITY;
      String bestName = "";
      for (String d : detectors) {
        if (m.containsKey(d) && m.get(d).get("roc_auc") instanceof Number n && n.doubleValue() > best) {
          best = n.doubleValue();
          bestName = d;
        }
      }
      if (ensemble >= best - 0.01) {
        close++;
      } else {
        behind.add(String.format(Locale.ROOT, "%s/%s (%.3f vs %s %.3f)", r.get("dataset"), r.get("attack"),
            ensemble, bestName, best));
      }
      double fpr = ((Number) m.get("ensemble").get("fpr")).doubleValue();
      worstFpr = Math.max(worstFpr, fpr);
      if (fpr <= 0.02) {
        withinFpr++;
      }
      Map<String, Object> own = (Map<String, Object>) r.get("row_evidence_flag");
      double ownFpr = own != null && own.get("fpr") instanceof Number n ? n.doubleValue() : fpr;
      worstOwnFpr = Math.max(worstOwnFpr, ownFpr);
      if (ownFpr <= 0.02) {
        withinOwnFpr++;
      }
    }
    return String.format(Locale.ROOT, "%nEnsemble ROC-AUC within 0.01 of the best single detector (or above) on %d "
        + "of %d rows; behind on: %s.%n%nFalse-positive rate of `_pg_flagged` on clean rows at most 2%% on %d of %d "
        + "rows; largest %.3f. By row-level evidence alone (whole-feed verdicts left out): at most 2%% on %d of %d "
        + "rows; largest %.3f.%n", close, rows.size(), behind.isEmpty() ? "none" : String.join(", ", behind),
        withinFpr, rows.size(), worstFpr, withinOwnFpr, rows.size(), worstOwnFpr);
  }

  /** The flag's FPR; where whole-feed verdicts flagged rows, the row-evidence-only FPR follows in brackets. */
  @SuppressWarnings("unchecked")
  private static String fpr(Map<String, Object> row) {
    Object all = ((Map<String, Map<String, Object>>) row.get("metrics")).get("ensemble").get("fpr");
    Map<String, Object> own = (Map<String, Object>) row.get("row_evidence_flag");
    if (own == null || !(own.get("fpr") instanceof Number n) || !(all instanceof Number a)
        || Math.abs(n.doubleValue() - a.doubleValue()) < 5e-4) {
      return num(all);
    }
    return num(all) + " (" + num(n) + ")";
  }

  private static String cell(Map<String, Object> m) {
    return num(m.get("roc_auc")) + " / " + num(m.get("recall_at_1pct_fpr"));
  }

  private static String num(Object v) {
    return v instanceof Number n && !Double.isNaN(n.doubleValue())
        ? String.format(Locale.ROOT, "%.3f", n.doubleValue()) : "–";
  }
}
