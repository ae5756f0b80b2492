package io.poisonguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.sun.management.HotSpotDiagnosticMXBean;
import io.poisonguard.cli.Main;
import io.poisonguard.config.DetectConfig;
import io.poisonguard.detect.DetectorEstimator;
import io.poisonguard.detect.DetectorModel;
import io.poisonguard.detect.DetectorRegistry;
import io.poisonguard.detect.FeaturePreparer;
import io.poisonguard.detect.FeaturePreparerModel;
import io.poisonguard.detect.FitSample;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SparkSessions;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * Scale benchmark driver (bench/scale runs it, one JVM per measurement so each peak heap is its own):
 * <ul>
 *   <li>{@code generate ROWS DIR}: a Spambase-shaped dataset of ROWS rows × 32 features as Parquet — real rows
 *       resampled with multiplicative noise, 2% of them poisoned (label flips and far-out rows), seeded;
 *   <li>{@code bare DIR WAREHOUSE OUT.json}: the floor any Spark job pays — read, one aggregation, write Delta;
 *   <li>{@code guard DIR WAREHOUSE OUT.json}: the full guard ({@code run}) on the same data;
 *   <li>{@code detectors DIR OUT.json}: the preparation and each default detector's fit and scoring, timed apart.
 * </ul>
 * Each measurement writes wall time, rows/s and the JVM's peak heap (sum of heap pools' peak usage) as JSON.
 */
public final class ScaleBench {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** The 32 Spambase features the synthetic data keeps (the first 29 word/char frequencies and the 3 capital-run
   * features, which carry the heaviest tails). */
  static final int FEATURES = 32;

  private ScaleBench() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "generate" -> generate(Long.parseLong(args[1]), args[2]);
      case "bare" -> measure("bare", args[1], args[3], () -> bare(args[1], args[2]));
      case "guard" -> measure("guard", args[1], args[3], () -> guard(args[1], args[2]));
      case "detectors" -> detectorCosts(args[1], Path.of(args[2]));
      case "report" -> report(Path.of(args[1]), Path.of(args[2]), args[3]);
      default -> throw new IllegalArgumentException("usage: generate ROWS DIR | bare DIR WH OUT | guard DIR WH OUT"
          + " | detectors DIR OUT.json | report RESULTS OUT.md HEADER");
    }
    System.exit(0);
  }

  private static SparkSession spark() {
    return SparkSessions.create("scale-bench", null, Map.of());
  }

  private static void generate(long rows, String out) {
    SparkSession spark = spark();
    Dataset<Row> base = spark.read().option("header", "true").option("inferSchema", "true")
        .csv("data/spambase.csv");
    List<String> names = new ArrayList<>(Arrays.asList(base.columns()).subList(0, 29));
    names.addAll(List.of("capitalAve", "capitalLong", "capitalTotal"));
    Dataset<Row> indexed = base.select(functions.monotonically_increasing_id().as("k"), functions.col("*"))
        .select(functions.row_number().over(org.apache.spark.sql.expressions.Window.orderBy("k")).minus(1)
            .as("base_row"), functions.col("*"));
    long baseRows = indexed.count();
    Dataset<Row> ids = spark.range(rows).withColumn("base_row", functions.pmod(functions.xxhash64(
        functions.col("id"), functions.lit(7L)), functions.lit(baseRows)).cast("int"));
    Dataset<Row> joined = ids.join(functions.broadcast(indexed), "base_row");
    Column poisoned = functions.pmod(functions.xxhash64(functions.col("id"), functions.lit(11L)),
        functions.lit(100L)).lt(2);
    List<Column> columns = new ArrayList<>();
    columns.add(functions.col("id").cast("string").as("id"));
    for (int j = 0; j < names.size(); j++) {
      Column noise = functions.lit(1.0).plus(functions.randn(100 + j).multiply(0.05));
      Column value = functions.col(names.get(j)).cast("double").multiply(noise);
      if (j == names.size() - 1) {
        // half the poisoned rows are far out on capitalTotal
        value = functions.when(poisoned.and(functions.col("id").mod(2).equalTo(0)), value.multiply(50))
            .otherwise(value);
      }
      columns.add(value.as(names.get(j)));
    }
    Column flipped = functions.when(functions.col("type").equalTo("spam"), "nonspam").otherwise("spam");
    columns.add(functions.when(poisoned.and(functions.col("id").mod(2).equalTo(1)), flipped)
        .otherwise(functions.col("type")).as("type"));
    // Files of at most 500,000 rows in 32 MiB row groups, as a data lake's would be: a reader holds one row group
    // per task in memory, and with 128 MiB groups two of them alone took a quarter of a 1 GiB heap.
    joined.select(columns.toArray(Column[]::new)).write().mode("overwrite").option("maxRecordsPerFile", 500_000)
        .option("parquet.block.size", 32 << 20).parquet(out);
  }

  private static long bare(String input, String warehouse) {
    SparkSession spark = spark();
    Dataset<Row> data = spark.read().parquet(input);
    Dataset<Row> summary = data.groupBy("type").agg(functions.count(functions.lit(1)).as("rows"),
        functions.avg("capitalTotal").as("mean_capital_total"));
    long rows = summary.agg(functions.sum("rows")).head().getLong(0);
    data.write().format("delta").mode("overwrite").save(warehouse + "/bare");
    return rows;
  }

  /** Seconds per stage of the last guard run, up to the write (what its run summary times). */
  private static final Map<String, Double> stageSeconds = new LinkedHashMap<>();

  private static long guard(String input, String warehouse) throws Exception {
    Path pipeline = Files.createTempFile("scale", ".yaml");
    Files.writeString(pipeline, """
        name: scale
        seed: 42
        input: {path: %s, format: parquet, label: type, id: id}
        gate: {max_quarantine_fraction: 1.0, max_psi: 100, max_label_share_change: 1.0}
        """.formatted(input));
    Path summary = Files.createTempFile("scale", ".json");
    int code = Main.run(new String[] {"run", "--pipeline", pipeline.toString(), "--warehouse", warehouse,
        "--output-json", summary.toString()}, System.out, System.err);
    if (code != 0) {
      throw new IllegalStateException("guard run exited " + code);
    }
    var read = JSON.readTree(summary.toFile());
    read.get("timings_seconds").fields().forEachRemaining(e -> stageSeconds.put(e.getKey(), e.getValue().asDouble()));
    return read.get("rows_read").asLong();
  }

  /**
   * Where detection's time goes: the shared preparation, then each default detector's fit (on the default fit
   * sample) and its scoring pass over every row (forced by summing its score), timed one after the other, as the
   * guard's batch fit runs them. Writes seconds per step as JSON.
   */
  private static void detectorCosts(String input, Path out) throws Exception {
    SparkSession spark = spark();
    Dataset<Row> data = spark.read().parquet(input).withColumnRenamed("id", Columns.ID);
    List<String> features = Arrays.stream(data.columns()).filter(c -> !c.equals(Columns.ID) && !c.equals("type"))
        .toList();
    FeatureSchema schema = new FeatureSchema("type", features, List.of());
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("input", input);
    long start = System.nanoTime();
    // as the guard does: preparation and detectors fitted on the default fit sample, every row scored
    Dataset<Row> sample = FitSample.of(data, "type", DetectConfig.DEFAULT_FIT_ROWS, 42);
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(schema).fit(sample);
    Dataset<Row> prepared = preparer.transform(data).select(Columns.FEATURES, Columns.LABEL_INDEX, Columns.ID)
        .persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> preparedSample = preparer.transform(sample)
        .select(Columns.FEATURES, Columns.LABEL_INDEX, Columns.ID).persist(StorageLevel.MEMORY_AND_DISK());
    figures.put("rows", prepared.count());
    figures.put("fit_rows", preparedSample.count());
    figures.put("prepare_seconds", seconds(start));
    Map<String, Map<String, Double>> detectors = new LinkedHashMap<>();
    for (DetectorEstimator<?> estimator : DetectorRegistry.build(DetectConfig.defaults().detectors(), 42)) {
      Map<String, Double> cost = new LinkedHashMap<>();
      long t = System.nanoTime();
      DetectorModel<?> model = estimator.fit(preparedSample);
      cost.put("fit_seconds", seconds(t));
      t = System.nanoTime();
      model.transform(prepared).agg(functions.sum(Columns.col(model.getScoreCol()))).head();
      cost.put("score_seconds", seconds(t));
      detectors.put(model.reasonCode(), cost);
      System.out.println(model.reasonCode() + " " + cost);
    }
    figures.put("detectors", detectors);
    prepared.unpersist();
    preparedSample.unpersist();
    JSON.writeValue(out.toFile(), figures);
    System.out.println(JSON.writeValueAsString(figures));
  }

  private static double seconds(long startNanos) {
    return Math.round((System.nanoTime() - startNanos) / 1e8) / 10.0;
  }

  /**
   * Writes the markdown tables from the JSON figures in {@code results}: {@code bare-<rows>-<round>.json} and
   * {@code guard-<rows>-<round>.json}, one pair per round (a bare pass, then the guard), and {@code detectors-<rows>
   * .json}. With several rounds at a size each figure is their median, the ratio the median of the rounds' own
   * ratios, and the peak heap the largest of any round; {@code header} names the commit and date.
   */
  private static void report(Path results, Path markdown, String header) throws Exception {
    Map<Long, List<Round>> bySize = rounds(results);
    StringBuilder md = new StringBuilder("# Scale benchmark\n\n").append(header).append("\n\n")
        .append("Produced by `bench/scale`. Synthetic Spambase-shaped data (real rows resampled with 5% ")
        .append("multiplicative noise, 32 features, 2% poisoned), Parquet, Spark `local[*]` on this machine. ")
        .append("bare = read, one aggregation, write Delta; guard = `poisonguard run` (ingest, profile, every ")
        .append("default detector, gate, write, audit). Each round is a bare pass then a guard, one fresh JVM each; ")
        .append("with several rounds at a size, every figure below is the median over them and the peak heap the ")
        .append("largest. Peak heap is the JVM's (driver and executors share it in local mode).\n\n")
        .append("| rows | rounds | bare s | guard s | guard rows/s | guard / bare | guard / bare by round ")
        .append("| guard peak heap MiB | heap limit MiB |\n")
        .append("|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
    Map<Long, Double> guardSeconds = new LinkedHashMap<>();
    bySize.forEach((rows, rounds) -> {
      double guard = median(rounds, r -> r.guard().get("seconds").asDouble());
      guardSeconds.put(rows, guard);
      List<Round> paired = rounds.stream().filter(r -> r.bare() != null).toList();
      String byRound = String.join(", ", paired.stream().map(r -> String.format(java.util.Locale.ROOT, "%.2f",
          r.guard().get("seconds").asDouble() / r.bare().get("seconds").asDouble())).toList());
      md.append(String.format(java.util.Locale.ROOT, "| %,d | %d | %s | %.1f | %,d | %s | %s | %d | %d |%n", rows,
          rounds.size(),
          paired.isEmpty() ? "–" : String.format(java.util.Locale.ROOT, "%.1f",
              median(paired, r -> r.bare().get("seconds").asDouble())),
          guard, Math.round(rows / guard),
          paired.isEmpty() ? "–" : String.format(java.util.Locale.ROOT, "%.2f", median(paired,
              r -> r.guard().get("seconds").asDouble() / r.bare().get("seconds").asDouble())),
          paired.isEmpty() ? "–" : byRound,
          rounds.stream().mapToLong(r -> r.guard().get("peak_heap_mib").asLong()).max().orElseThrow(),
          rounds.get(0).guard().get("max_heap_mib").asLong()));
    });
    appendStages(bySize, md);
    appendCpu(bySize, md);
    List<Long> rowsSorted = guardSeconds.keySet().stream().sorted().toList();
    if (rowsSorted.size() > 1) {
      long first = rowsSorted.get(0);
      md.append("\nGrowth of guard time from ").append(String.format(java.util.Locale.ROOT, "%,d", first))
          .append(" rows: ");
      List<String> growth = new ArrayList<>();
      for (long r : rowsSorted.subList(1, rowsSorted.size())) {
        growth.add(String.format(java.util.Locale.ROOT, "%,d rows ×%.2f (rows ×%.1f)", r,
            guardSeconds.get(r) / guardSeconds.get(first), r / (double) first));
      }
      md.append(String.join("; ", growth)).append(".\n");
    }
    try (var files = Files.list(results)) {
      for (Path costs : files.filter(f -> f.getFileName().toString().startsWith("detectors-")).sorted().toList()) {
        var c = JSON.readTree(costs.toFile());
        md.append(String.format(java.util.Locale.ROOT, "%nWhere detection's time goes at %,d rows (`detectors` "
            + "measurement: each default detector fitted on the %,d rows of the default fit sample and its scores "
            + "over every row summed, one after the other on the shared prepared rows; preparation %.1f s):%n%n"
            + "| detector | fit s | score s |%n|---|---:|---:|%n",
            c.get("rows").asLong(), c.path("fit_rows").asLong(c.get("rows").asLong()),
            c.get("prepare_seconds").asDouble()));
        c.get("detectors").fields().forEachRemaining(e -> md.append(String.format(java.util.Locale.ROOT,
            "| %s | %.1f | %.1f |%n", e.getKey(), e.getValue().get("fit_seconds").asDouble(),
            e.getValue().get("score_seconds").asDouble())));
      }
    }
    Files.writeString(markdown, md.toString());
    System.out.print(md);
  }

  /** One round at one size: its guard measurement and the bare pass before it (null if there was none). */
  private record Round(JsonNode bare, JsonNode guard) {}

  /** The guard measurements in {@code results} with their bare passes, by size (ascending), in round order. */
  private static Map<Long, List<Round>> rounds(Path results) throws Exception {
    Map<Long, List<Round>> bySize = new java.util.TreeMap<>();
    try (var files = Files.list(results)) {
      for (Path guardFile : files.filter(f -> f.getFileName().toString().startsWith("guard-"))
          .sorted(java.util.Comparator.comparing(ScaleBench::roundOf)).toList()) {
        Path bareFile = results.resolve(guardFile.getFileName().toString().replace("guard-", "bare-"));
        Round round = new Round(Files.exists(bareFile) ? JSON.readTree(bareFile.toFile()) : null,
            JSON.readTree(guardFile.toFile()));
        bySize.computeIfAbsent(round.guard().get("rows").asLong(), k -> new ArrayList<>()).add(round);
      }
    }
    return bySize;
  }

  /** The round in a measurement file's name ({@code guard-1000000-2.json}: 2). */
  private static int roundOf(Path measurement) {
    String[] parts = measurement.getFileName().toString().replace(".json", "").split("-");
    return parts.length > 2 ? Integer.parseInt(parts[2]) : 1;
  }

  private static double median(List<Round> rounds, ToDoubleFunction<Round> figure) {
    double[] sorted = rounds.stream().mapToDouble(figure).sorted().toArray();
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  /** Median seconds per guard stage and size, from the guard measurements that recorded them. */
  private static void appendStages(Map<Long, List<Round>> bySize, StringBuilder md) {
    List<String> stages = new ArrayList<>();
    bySize.values().forEach(rounds -> rounds.forEach(r -> r.guard().path("stage_seconds").fieldNames()
        .forEachRemaining(name -> {
          if (!stages.contains(name)) {
            stages.add(name);
          }
        })));
    if (stages.isEmpty()) {
      return;
    }
    md.append("\nGuard seconds per stage (from the run summary, which times the stages up to the write; audit and ")
        .append("report follow it):\n\n| rows | ").append(String.join(" | ", stages)).append(" |\n|---:|")
        .append("---:|".repeat(stages.size())).append("\n");
    bySize.forEach((rows, rounds) -> {
      md.append(String.format(java.util.Locale.ROOT, "| %,d |", rows));
      for (String name : stages) {
        List<Round> timed = rounds.stream().filter(r -> r.guard().path("stage_seconds").has(name)).toList();
        md.append(timed.isEmpty() ? " – |" : String.format(java.util.Locale.ROOT, " %.1f |",
            median(timed, r -> r.guard().get("stage_seconds").get(name).asDouble())));
      }
      md.append("\n");
    });
  }

  /**
   * Median CPU seconds per size, bare pass and guard, with the JIT compilers' and the collectors' share: what a fresh
   * JVM spends besides the work itself, from the rounds that recorded it.
   */
  private static void appendCpu(Map<Long, List<Round>> bySize, StringBuilder md) {
    StringBuilder rows = new StringBuilder();
    bySize.forEach((size, rounds) -> {
      List<Round> timed = rounds.stream()
          .filter(r -> r.bare() != null && r.bare().has("cpu_seconds") && r.guard().has("cpu_seconds")).toList();
      if (!timed.isEmpty()) {
        rows.append(String.format(java.util.Locale.ROOT, "| %,d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n", size,
            median(timed, r -> r.bare().get("cpu_seconds").asDouble()),
            median(timed, r -> r.bare().get("jit_seconds").asDouble()),
            median(timed, r -> r.bare().get("gc_seconds").asDouble()),
            median(timed, r -> r.guard().get("cpu_seconds").asDouble()),
            median(timed, r -> r.guard().get("jit_seconds").asDouble()),
            median(timed, r -> r.guard().get("gc_seconds").asDouble())));
      }
    });
    if (rows.isEmpty()) {
      return;
    }
    md.append("\nCPU seconds of each measured JVM (all its threads), the seconds its JIT compilers spent compiling ")
        .append("(summed over the compiler threads, which run beside the work: on two cores they take CPU from it) ")
        .append("and its collector's pauses, from the JVM's own counters:\n\n")
        .append("| rows | bare CPU s | bare JIT s | bare GC s | guard CPU s | guard JIT s | guard GC s |\n")
        .append("|---:|---:|---:|---:|---:|---:|---:|\n").append(rows);
  }

  @FunctionalInterface
  private interface Work {
    long run() throws Exception;
  }

  private static void measure(String what, String input, String out, Work work) throws Exception {
    // heap in use, sampled every 20 ms: per-pool peaks happen at different moments and cannot be added up
    AtomicLong peak = new AtomicLong();
    Thread sampler = new Thread(() -> {
      while (!Thread.currentThread().isInterrupted()) {
        peak.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    sampler.setDaemon(true);
    sampler.start();
    ProcessTimes before = ProcessTimes.now();
    long start = System.nanoTime();
    long rows = work.run();
    double seconds = (System.nanoTime() - start) / 1e9;
    ProcessTimes spent = ProcessTimes.now().minus(before);
    sampler.interrupt();
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("measurement", what);
    figures.put("input", input);
    figures.put("rows", rows);
    figures.put("seconds", Math.round(seconds * 10) / 10.0);
    figures.put("rows_per_second", Math.round(rows / seconds));
    if (!stageSeconds.isEmpty()) {
      figures.put("stage_seconds", new LinkedHashMap<>(stageSeconds));
    }
    figures.put("cpu_seconds", Math.round(spent.cpuSeconds() * 10) / 10.0);
    figures.put("jit_seconds", Math.round(spent.jitSeconds() * 10) / 10.0);
    figures.put("gc_seconds", Math.round(spent.gcSeconds() * 10) / 10.0);
    figures.put("peak_heap_mib", peak.get() / (1024 * 1024));
    // -Xmx itself: under the throughput collector the runtime's maximum leaves out a survivor space, whose size
    // adapts, so it read 938 to 962 MiB of a 1 GiB heap, below the peaks measured in use
    long limit = Long.parseLong(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
        .getVMOption("MaxHeapSize").getValue());
    figures.put("max_heap_mib", limit / (1024 * 1024));
    figures.put("cores", Runtime.getRuntime().availableProcessors());
    JSON.writeValue(Path.of(out).toFile(), figures);
    System.out.println(JSON.writeValueAsString(figures));
  }

  /**
   * The JVM's CPU time (all threads), its JIT compilers' time and its collectors' pauses, in seconds: on two cores a
   * fresh JVM's compilers compete with the work for the same CPU, and the guard, with its many distinct Spark
   * plans, gives them far more to compile than the bare pass does.
   */
  private record ProcessTimes(double cpuSeconds, double jitSeconds, double gcSeconds) {
    static ProcessTimes now() {
      var os = ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);
      long gcMillis = ManagementFactory.getGarbageCollectorMXBeans().stream()
          .mapToLong(gc -> Math.max(0, gc.getCollectionTime())).sum();
      return new ProcessTimes(os.getProcessCpuTime() / 1e9,
          ManagementFactory.getCompilationMXBean().getTotalCompilationTime() / 1e3, gcMillis / 1e3);
    }

    ProcessTimes minus(ProcessTimes earlier) {
      return new ProcessTimes(cpuSeconds - earlier.cpuSeconds, jitSeconds - earlier.jitSeconds,
          gcSeconds - earlier.gcSeconds);
    }
  }
}
