package io.poisonguard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.poisonguard.config.InputConfig;
import io.poisonguard.config.TrainConfig;
import io.poisonguard.evaluate.RobustnessEvaluator;
import io.poisonguard.evaluate.RobustnessReport;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SparkSessions;
import io.poisonguard.train.HardenedModel;
import io.poisonguard.train.HardenedTraining;
import io.poisonguard.train.LinearSoftmax;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * Hardened-training benchmark driver (bench/hardening runs it):
 * <ul>
 *   <li>{@code run DATASETS OUTDIR COMMIT}: for each named dataset, every training variant of {@link #variants} on
 *       seed 42, each measured by {@link RobustnessEvaluator} on one common grid (L∞ ε 0.1, 0.25, 0.5, 1 in
 *       robustly scaled units, 20 PGD steps): clean accuracy, white-box PGD and transferred (black-box) accuracy,
 *       guard flag rates, certified accuracy for the partition ensemble. One JSON per dataset in OUTDIR, written
 *       after each variant so a cut-short run keeps what it measured;
 *   <li>{@code report OUTDIR OUT_BASENAME HEADER}: the per-dataset tables and verdicts as {@code OUT_BASENAME.md},
 *       and everything merged as {@code OUT_BASENAME.json}.
 * </ul>
 * The grids are fixed: nothing is tuned to the results. The transferred attacks of all variants of a dataset are
 * crafted on one surrogate (the plain linear model on a hash-chosen half of the training rows, as
 * {@link HardenedTraining#surrogate} trains it): every variant sees the same feature preparation (fitted on the same
 * training rows), so the same transferred attack is a fair comparison.
 */
public final class HardeningBench {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final long SEED = 42;
  /** Training budgets of adversarial training and of the robust loss, the same for every dataset. */
  private static final List<String> GRID = List.of("0.05", "0.1", "0.15", "0.25");
  private static final String EVALUATE = "evaluate: {epsilons: [0.1, 0.25, 0.5, 1.0], attack_steps: 20}\n";
  /** Largest clean-accuracy loss (accuracy points) the bar allows. */
  private static final double MAX_CLEAN_LOSS = 2.0;
  /** White-box gain over the plain model (accuracy points) the bar asks for. */
  private static final double MIN_GAIN = 10.0;
  /** Radii of the certified curve shown in the table (those up to the ensemble's maximum). */
  private static final int[] RADII = {0, 1, 2, 5, 10, 15, 20, 25, 30, 40, 50};

  /** A dataset of the benchmark: file, label, the share of rows kept (by a hash of {@code _pg_id}). */
  record DataSet(String name, String path, String label, double keep) {}

  /** A training variant: its name, its family (what the verdict compares) and its {@code train:} section. */
  record Variant(String name, String family, String yaml) {}

  static final List<DataSet> DATASETS = List.of(
      new DataSet("spambase", "data/spambase.csv", "type", 1.0),
      new DataSet("letter", "data/letter.csv", "lettr", 1.0),
      new DataSet("digits", "data/digits.csv", "digit", 1.0));

  private HardeningBench() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "run" -> run(List.of(args[1].split(",")), Path.of(args[2]), args[3],
          args.length > 4 && !args[4].isBlank() ? List.of(args[4].split(",")) : null);
      case "report" -> report(Path.of(args[1]), args[2], args[3]);
      default -> throw new IllegalArgumentException("usage: run DATASETS OUTDIR COMMIT [VARIANTS] | report OUTDIR "
          + "OUT_BASENAME HEADER");
    }
    System.exit(0);
  }

  /** The variants measured on {@code ds}; the grids are the benchmark's, fixed in advance. */
  static List<Variant> variants(DataSet ds) {
    List<Variant> v = new ArrayList<>();
    v.add(new Variant("linear", "plain", "trainer: linear\n"));
    for (String e : GRID) {
      v.add(new Variant("linear + adversarial PGD L∞ ε=" + e, "adversarial", "trainer: linear\nadversarial: "
          + "{attack: pgd, norm: linf, epsilon: " + e + ", steps: 10, mix: 0.5}\n"));
    }
    for (String e : GRID) {
      v.add(new Variant("linear + robust loss ε=" + e, "robust_loss", "trainer: linear\nrobust_loss: {epsilon: "
          + e + "}\n"));
    }
    v.add(new Variant("linear + trimmed 0.05", "trimmed", "trainer: linear\ntrimmed: {share: 0.05}\n"));
    v.add(new Variant("linear + label smoothing 0.1", "label_smoothing", "trainer: linear\nlabel_smoothing: 0.1\n"));
    v.add(new Variant("linear + distillation T=50", "distillation", "trainer: linear\ndistillation: "
        + "{temperature: 50}\n"));
    v.add(new Variant("mllib-random-forest", "forest", "trainer: mllib-random-forest\n"));
    v.add(new Variant("mllib-random-forest + transferred PGD ε=0.25", "forest", "trainer: mllib-random-forest\n"
        + "adversarial: {attack: pgd, norm: linf, epsilon: 0.25, steps: 10, mix: 0.5}\n"));
    v.add(new Variant("tribuo-cart partition ensemble k=50", "partition", "trainer: tribuo-cart\n"
        + "partition_ensemble: {partitions: 50}\n"));
    if (ds.name().equals("letter")) {
      v.add(new Variant("tribuo-cart partition ensemble k=100", "partition", "trainer: tribuo-cart\n"
          + "partition_ensemble: {partitions: 100}\n"));
    }
    return v;
  }

  private static void run(List<String> names, Path outDir, String commit, List<String> onlyVariants)
      throws Exception {
    Files.createDirectories(outDir);
    SparkSession spark = SparkSessions.create("hardening-bench", null, Map.of("spark.sql.shuffle.partitions", "2"));
    for (String name : names) {
      DataSet ds = DATASETS.stream().filter(d -> d.name().equals(name)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unknown dataset " + name));
      long started = System.nanoTime();
      IngestedBatch batch = new Ingestor(spark).read(new InputConfig(ds.path(), "csv", ds.label(), null, null, null,
          null, null, null), "bench");
      Dataset<Row> rows = batch.accepted();
      long total = rows.count();
      if (ds.keep() < 1) {
        Column bucket = functions.pmod(functions.xxhash64(Columns.col(Columns.ID), functions.lit(SEED)),
            functions.lit(1000L));
        rows = rows.filter(bucket.lt(Math.round(1000 * ds.keep())));
      }
      rows = rows.persist(StorageLevel.MEMORY_AND_DISK());
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("dataset", ds.name());
      result.put("path", ds.path());
      result.put("label", ds.label());
      result.put("commit", commit);
      result.put("date", java.time.LocalDate.now(java.time.ZoneOffset.UTC).toString());
      result.put("seed", SEED);
      result.put("rows_in_file", total);
      result.put("rows_used", rows.count());
      result.put("sampled", ds.keep() < 1);
      List<Map<String, Object>> measured = new ArrayList<>();
      result.put("variants", measured);
      LinearSoftmax surrogate = null;
      Path out = outDir.resolve(ds.name() + ".json");
      for (Variant v : variants(ds)) {
        if (onlyVariants != null && !onlyVariants.contains(v.family())) {
          continue;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", v.name());
        m.put("family", v.family());
        m.put("train", YAML.readValue(v.yaml(), Map.class));
        try {
          TrainConfig config = YAML.readValue(v.yaml() + EVALUATE, TrainConfig.class);
          long t0 = System.nanoTime();
          HardenedTraining.Trained trained = HardenedTraining.fit(rows, batch.features(), config, SEED);
          double fitSeconds = (System.nanoTime() - t0) / 1e9;
          try {
            HardenedModel model = trained.model();
            if (surrogate == null) {
              long s0 = System.nanoTime();
              surrogate = HardenedTraining.surrogate(trained, config, SEED);
              result.put("surrogate_seconds", round1((System.nanoTime() - s0) / 1e9));
              result.put("train_rows", trained.trainRows());
              result.put("test_rows", trained.testRows());
              result.put("classes", model.classifier().numClasses());
              result.put("features", model.classifier().numFeatures());
            }
            long e0 = System.nanoTime();
            RobustnessReport report = RobustnessEvaluator.evaluate(trained.test(), model.classifier(),
                model.guard(), surrogate, config.evaluate().epsilons(), config.evaluate().attackSteps());
            m.put("fit_seconds", round1(fitSeconds));
            m.put("evaluate_seconds", round1((System.nanoTime() - e0) / 1e9));
            m.put("trainer", model.classifier().trainer());
            m.put("report", JSON.convertValue(report, Map.class));
            if (model.classifier() instanceof LinearSoftmax linear && linear.numClasses() == 2) {
              m.put("sign_agreement_with_surrogate", signAgreement(linear, surrogate));
            }
          } finally {
            trained.release();
          }
        } catch (RuntimeException e) {
          m.put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
          e.printStackTrace();
        }
        measured.add(m);
        result.put("minutes", Math.round((System.nanoTime() - started) / 6e9) / 10.0);
        JSON.writeValue(out.toFile(), result);
        System.out.printf(Locale.ROOT, "%s / %s: %s%n", ds.name(), v.name(), m.containsKey("error") ? m.get("error")
            : String.format(Locale.ROOT, "clean %.3f, fit %.1f s, evaluate %.1f s",
                ((Number) ((Map<?, ?>) m.get("report")).get("cleanAccuracy")).doubleValue(), m.get("fit_seconds"),
                m.get("evaluate_seconds")));
      }
      rows.unpersist();
      batch.release();
    }
  }

  /**
   * Share of features (among those both weigh) on which the model's and the surrogate's class-1-minus-class-0
   * weights have the same sign. L∞ PGD on a binary linear model steps along that sign only, so at 1.0 the transferred
   * perturbation equals the white-box one wherever neither model's probabilities saturate.
   */
  private static double signAgreement(LinearSoftmax model, LinearSoftmax surrogate) {
    double[][] w = model.weights();
    double[][] s = surrogate.weights();
    int d = model.numFeatures();
    int both = 0;
    int same = 0;
    for (int i = 0; i < d; i++) {
      double a = Math.signum(w[1][i] - w[0][i]);
      double b = Math.signum(s[1][i] - s[0][i]);
      if (a != 0 && b != 0) {
        both++;
        same += a == b ? 1 : 0;
      }
    }
    return both == 0 ? Double.NaN : same / (double) both;
  }

  private static double round1(double v) {
    return Math.round(v * 10) / 10.0;
  }

  // ------------------------------------------------------------------------------------------------- report

  @SuppressWarnings("unchecked")
  private static void report(Path dir, String base, String header) throws Exception {
    List<Map<String, Object>> sets = new ArrayList<>();
    for (DataSet ds : DATASETS) {
      Path f = dir.resolve(ds.name() + ".json");
      if (Files.exists(f)) {
        sets.add(JSON.readValue(f.toFile(), Map.class));
      }
    }
    StringBuilder md = new StringBuilder("# Hardened-training benchmark\n\n");
    md.append(header).append(" Produced by `bench/hardening`.\n\n");
    md.append("Each dataset's rows are split 80/20 by a seeded hash of the row id (seed 42); models train on the 80% "
        + "and are measured on the 20% as served (inputs clipped by the input guard). ε is an L∞ budget in robustly "
        + "scaled units, (x − median) / robust scale. *White-box*: 20-step PGD on the model's own gradient (linear "
        + "models only; – for trees and ensembles, which have none). *Black-box*: the same PGD crafted on a plain "
        + "linear surrogate trained on a disjoint hash-chosen half of the training rows and transferred; one "
        + "surrogate per dataset for all variants. *Flags*: share of inputs the squeezing guard flags as likely "
        + "evasion, on clean rows and on white-box / black-box attacked rows at ε = 0.5. Fit seconds include the "
        + "feature preparation and the input guard. One training grid fixed in advance for adversarial "
        + "training and the robust loss alike (ε ∈ {" + String.join(", ", GRID)
        + "}), the forest's transferred augmentation at ε = 0.25); nothing is tuned.\n\n");
    for (Map<String, Object> set : sets) {
      md.append(dataset(set));
    }
    Files.writeString(Path.of(base + ".md"), md.toString());
    Map<String, Object> all = new LinkedHashMap<>();
    all.put("header", header);
    all.put("datasets", sets);
    JSON.writeValue(Path.of(base + ".json").toFile(), all);
    System.out.print(md);
  }

  @SuppressWarnings("unchecked")
  private static String dataset(Map<String, Object> set) {
    List<Map<String, Object>> variants = (List<Map<String, Object>>) set.get("variants");
    List<Double> eps = epsilons(variants);
    StringBuilder md = new StringBuilder();
    md.append(String.format(Locale.ROOT, "## %s%n%n%s rows used of %s%s; %s training / %s test rows, %s classes, "
        + "%s features; one test row is %.2f accuracy points. Measured in %s minutes (commit %s, %s).%n%n",
        set.get("dataset"), set.get("rows_used"),
        set.get("rows_in_file"), Boolean.TRUE.equals(set.get("sampled"))
            ? " (deterministic subsample by a seeded hash of the row id)" : "",
        set.get("train_rows"), set.get("test_rows"), set.get("classes"), set.get("features"),
        set.get("test_rows") instanceof Number n ? 100.0 / n.doubleValue() : Double.NaN, set.get("minutes"),
        set.get("commit"), set.get("date")));
    int mid = eps.size() / 2;
    md.append("| variant | clean acc |");
    eps.forEach(e -> md.append(" white-box ε=").append(fmtEps(e)).append(" |"));
    eps.forEach(e -> md.append(" black-box ε=").append(fmtEps(e)).append(" |"));
    md.append(" flags clean / white-box / black-box at ε=").append(eps.isEmpty() ? "?" : fmtEps(eps.get(mid)))
        .append(" | fit s |\n|---|---:|");
    eps.forEach(e -> md.append("---:|---:|"));
    md.append("---:|---:|\n");
    for (Map<String, Object> v : variants) {
      md.append("| ").append(v.get("variant")).append(" |");
      if (v.containsKey("error")) {
        md.append(" failed: ").append(String.valueOf(v.get("error")).replace('|', '/').replace('\n', ' '))
            .append(" |\n");
        continue;
      }
      Map<String, Object> r = (Map<String, Object>) v.get("report");
      List<Map<String, Object>> attacks = (List<Map<String, Object>>) r.get("attacks");
      md.append(' ').append(num(r.get("cleanAccuracy"))).append(" |");
      attacks.forEach(a -> md.append(' ').append(num(a.get("whiteBox"))).append(" |"));
      attacks.forEach(a -> md.append(' ').append(num(a.get("blackBox"))).append(" |"));
      Map<String, Object> m = attacks.get(mid);
      md.append(' ').append(num(r.get("cleanFlagged"))).append(" / ").append(num(m.get("whiteBoxFlagged")))
          .append(" / ").append(num(m.get("blackBoxFlagged"))).append(" |");
      md.append(' ').append(v.get("fit_seconds")).append(" |\n");
    }
    md.append(certified(variants));
    md.append(verdict(set, variants, eps));
    return md.append('\n').toString();
  }

  @SuppressWarnings("unchecked")
  private static List<Double> epsilons(List<Map<String, Object>> variants) {
    for (Map<String, Object> v : variants) {
      if (v.get("report") instanceof Map<?, ?> r) {
        List<Double> eps = new ArrayList<>();
        for (Map<String, Object> a : (List<Map<String, Object>>) r.get("attacks")) {
          eps.add(((Number) a.get("epsilon")).doubleValue());
        }
        return eps;
      }
    }
    return List.of();
  }

  @SuppressWarnings("unchecked")
  private static String certified(List<Map<String, Object>> variants) {
    StringBuilder md = new StringBuilder();
    for (Map<String, Object> v : variants) {
      if (!(v.get("report") instanceof Map<?, ?> r) || ((List<?>) r.get("certified")).isEmpty()) {
        continue;
      }
      List<Map<String, Object>> curve = (List<Map<String, Object>>) r.get("certified");
      md.append("\nCertified accuracy of ").append(v.get("variant"))
          .append(" (share of test rows predicted right with a certified radius ≥ r; r = training rows inserted or "
              + "removed): ");
      List<String> cells = new ArrayList<>();
      for (int radius : RADII) {
        for (Map<String, Object> c : curve) {
          if (((Number) c.get("radius")).intValue() == radius) {
            cells.add("r=" + radius + " → " + num(c.get("accuracy")));
          }
        }
      }
      md.append(String.join(", ", cells)).append(".\n");
    }
    return md.toString();
  }

  /**
   * The verdict, computed from the figures: for each hardened linear variant the evaluation ε with the largest
   * white-box gain over the plain model among those whose clean loss is at most 2 points; whether adversarial
   * training or the robust loss meets the bar (≥ 10 points white-box gain at at most 2 points of clean loss); where
   * a linear model's own-gradient attack is weaker than the transferred one (gradient masking); and, on binary
   * sets, whether white-box and black-box coincide.
   */
  @SuppressWarnings("unchecked")
  private static String verdict(Map<String, Object> set, List<Map<String, Object>> variants, List<Double> eps) {
    StringBuilder md = new StringBuilder("\n**Verdict** (computed from the table):\n\n");
    Map<String, Object> plain = variants.stream().filter(v -> v.get("family").equals("plain")
        && v.containsKey("report")).findFirst().orElse(null);
    if (plain == null) {
      return md.append("- the plain linear model failed or was not run: no comparison.\n").toString();
    }
    Map<String, Object> pr = (Map<String, Object>) plain.get("report");
    double plainClean = 100 * ((Number) pr.get("cleanAccuracy")).doubleValue();
    double[] plainWhite = column(pr, "whiteBox");
    double[] plainBlack = column(pr, "blackBox");
    boolean barMet = false;
    List<String> meeting = new ArrayList<>();
    for (Map<String, Object> v : variants) {
      String family = (String) v.get("family");
      if (!((Map<String, Object>) v.get("train")).get("trainer").equals("linear") || family.equals("plain")) {
        continue;
      }
      if (!v.containsKey("report")) {
        md.append("- ").append(v.get("variant")).append(": failed, no figures.\n");
        continue;
      }
      Map<String, Object> r = (Map<String, Object>) v.get("report");
      double clean = 100 * ((Number) r.get("cleanAccuracy")).doubleValue();
      double loss = plainClean - clean;
      double[] white = column(r, "whiteBox");
      double[] black = column(r, "blackBox");
      int best = -1;
      for (int b = 0; b < eps.size(); b++) {
        if (best < 0 || white[b] - plainWhite[b] > white[best] - plainWhite[best]) {
          best = b;
        }
      }
      boolean cleanOk = loss <= MAX_CLEAN_LOSS;
      double gain = white[best] - plainWhite[best];
      double blackGain = black[best] - plainBlack[best];
      boolean barFamily = family.equals("adversarial") || family.equals("robust_loss");
      boolean meets = cleanOk && gain >= MIN_GAIN;
      if (barFamily && meets) {
        barMet = true;
        meeting.add(v.get("variant") + " at ε=" + fmtEps(eps.get(best)));
      }
      md.append(String.format(Locale.ROOT, "- %s: clean %.1f%% (%s%.1f points vs plain)%s; ", v.get("variant"), clean,
          loss > 0 ? "−" : "+", Math.abs(loss), cleanOk ? "" : ", more than 2 points lost"));
      if (cleanOk) {
        md.append(String.format(Locale.ROOT, "largest white-box gain at ε=%s: %.1f → %.1f%% (%+.1f points; black-box "
            + "%.1f → %.1f%%, %+.1f points)", fmtEps(eps.get(best)), plainWhite[best], white[best], gain,
            plainBlack[best], black[best], blackGain));
      } else {
        md.append(String.format(Locale.ROOT, "no ε qualifies (its largest white-box gain would be %+.1f points at "
            + "ε=%s)", gain, fmtEps(eps.get(best))));
      }
      if (barFamily) {
        md.append(meets ? "; **meets the bar**" : "; does not meet the bar");
      }
      List<String> masked = new ArrayList<>();
      for (int b = 0; b < eps.size(); b++) {
        if (white[b] > black[b] + 2) {
          masked.add(String.format(Locale.ROOT, "ε=%s white-box %.1f%% vs black-box %.1f%%", fmtEps(eps.get(b)),
              white[b], black[b]));
        }
      }
      if (masked.isEmpty() && family.equals("distillation")) {
        md.append("; no gradient masking seen: its own-gradient attack is at least as strong as the transferred one "
            + "(white-box ≤ black-box + 2 points) at every ε");
      }
      if (!masked.isEmpty()) {
        md.append("; **own-gradient attack weaker than the transferred one** (").append(String.join(", ", masked))
            .append(v.get("family").equals("distillation") ? "): gradient masking, its white-box figures overstate "
                + "its robustness" : "): its white-box figures overstate its robustness");
      }
      md.append(".\n");
    }
    for (Map<String, Object> v : variants) {
      if (!(v.get("report") instanceof Map<?, ?> r)) {
        continue;
      }
      for (String key : List.of("whiteBox", "blackBox")) {
        double[] acc = column((Map<String, Object>) r, key);
        for (int b = 1; b < acc.length; b++) {
          if (acc[b] > acc[b - 1] + 2) {
            md.append(String.format(Locale.ROOT, "- %s: %s accuracy rises with the budget (ε=%s %.1f%% → ε=%s "
                + "%.1f%%): the attack is not adaptive to this model (likely it recognises the perturbation it was "
                + "trained on rather than withstanding attacks), so these figures are not a robustness bound.%n",
                v.get("variant"), key.equals("whiteBox") ? "white-box" : "black-box", fmtEps(eps.get(b - 1)),
                acc[b - 1], fmtEps(eps.get(b)), acc[b]));
          }
        }
      }
    }
    md.append(String.format(Locale.ROOT, "- Bar (adversarial training or the robust loss raising white-box PGD "
        + "accuracy at the reported ε by at least %.0f points over the plain model with at most %.0f points of clean "
        + "accuracy lost): %s.%n", MIN_GAIN, MAX_CLEAN_LOSS, barMet ? "**holds** (" + String.join("; ", meeting) + ")"
        : "**does not hold**"));
    if (((Number) set.getOrDefault("classes", 0)).intValue() == 2) {
      int linear = 0;
      int coincide = 0;
      List<String> agreement = new ArrayList<>();
      for (Map<String, Object> v : variants) {
        if (v.get("report") instanceof Map<?, ?> r && ((Map<String, Object>) v.get("train")).get("trainer")
            .equals("linear")) {
          linear++;
          double[] w = column((Map<String, Object>) r, "whiteBox");
          double[] b = column((Map<String, Object>) r, "blackBox");
          boolean same = true;
          for (int i = 0; i < w.length; i++) {
            same &= Math.abs(w[i] - b[i]) < 1e-9;
          }
          coincide += same ? 1 : 0;
          if (v.get("sign_agreement_with_surrogate") instanceof Number n) {
            agreement.add(String.format(Locale.ROOT, "%s %.2f", v.get("variant"), n.doubleValue()));
          }
        }
      }
      md.append(String.format(Locale.ROOT, "- Binary set: L∞ PGD on a binary linear model steps along the signs of "
          + "its weight difference only, so the transferred attack equals the white-box one wherever the surrogate's "
          + "signs match and neither model saturates. White-box and black-box accuracies coincide at every ε for %d "
          + "of %d linear variants. Share of features whose weight-difference sign matches the surrogate's: %s.%n",
          coincide, linear, String.join(", ", agreement)));
    }
    return md.toString();
  }

  @SuppressWarnings("unchecked")
  private static double[] column(Map<String, Object> report, String key) {
    List<Map<String, Object>> attacks = (List<Map<String, Object>>) report.get("attacks");
    double[] out = new double[attacks.size()];
    for (int i = 0; i < out.length; i++) {
      Object v = attacks.get(i).get(key);
      out[i] = v instanceof Number n ? 100 * n.doubleValue() : Double.NaN;
    }
    return out;
  }

  private static String fmtEps(double e) {
    return e == Math.rint(e) ? String.valueOf((long) e) : String.valueOf(e);
  }

  private static String num(Object v) {
    return v instanceof Number n && !Double.isNaN(n.doubleValue())
        ? String.format(Locale.ROOT, "%.3f", n.doubleValue()) : "–";
  }
}
