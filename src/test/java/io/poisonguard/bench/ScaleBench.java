package io.poisonguard.bench;

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
   * Writes the markdown table from the JSON figures in {@code results} ({@code bare-<rows>.json},
   * {@code guard-<rows>.json}); {@code header} names the commit and date.
   */
  private static void report(Path results, Path markdown, String header) throws Exception {
    List<long[]> sizes = new ArrayList<>();
    StringBuilder md = new StringBuilder("# Scale benchmark\n\n").append(header).append("\n\n")
        .append("Produced by `bench/scale`. Synthetic Spambase-shaped data (real rows resampled with 5% ")
        .append("multiplicative noise, 32 features, 2% poisoned), Parquet, Spark `local[*]` on this machine. ")
        .append("bare = read, one aggregation, write Delta; guard = `poisonguard run` (ingest, profile, every ")
        .append("default detector, gate, write, audit). Peak heap is the JVM's (driver and executors share it ")
        .append("in local mode).\n\n")
        .append("| rows | bare s | guard s | guard rows/s | guard / bare | guard peak heap MiB | heap limit MiB |\n")
        .append("|---:|---:|---:|---:|---:|---:|---:|\n");
    Map<Long, Double> guardSeconds = new LinkedHashMap<>();
    try (var files = Files.list(results)) {
      // by size: the file names sort 10M before 4M
      for (Path guardFile : files.filter(f -> f.getFileName().toString().startsWith("guard-"))
          .sorted(java.util.Comparator.comparingLong(ScaleBench::sizeOf)).toList()) {
        var g = JSON.readTree(guardFile.toFile());
        Path bareFile = results.resolve(guardFile.getFileName().toString().replace("guard-", "bare-"));
        var b = Files.exists(bareFile) ? JSON.readTree(bareFile.toFile()) : null;
        long rows = g.get("rows").asLong();
        double gs = g.get("seconds").asDouble();
        guardSeconds.put(rows, gs);
        md.append(String.format(java.util.Locale.ROOT, "| %,d | %s | %.1f | %,d | %s | %d | %d |%n", rows,
            b == null ? "–" : String.format(java.util.Locale.ROOT, "%.1f", b.get("seconds").asDouble()), gs,
            g.get("rows_per_second").asLong(),
            b == null ? "–" : String.format(java.util.Locale.ROOT, "%.2f", gs / b.get("seconds").asDouble()),
            g.get("peak_heap_mib").asLong(), g.get("max_heap_mib").asLong()));
      }
    }
    appendStages(results, md);
    appendCpu(results, md);
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

  /** The row count in a measurement file's name ({@code guard-4000000.json}). */
  private static long sizeOf(Path measurement) {
    String name = measurement.getFileName().toString();
    return Long.parseLong(name.substring(name.indexOf('-') + 1, name.lastIndexOf('.')));
  }

  /** Seconds per guard stage and size, from the guard measurements that recorded them. */
  private static void appendStages(Path results, StringBuilder md) throws Exception {
    Map<Long, Map<String, Double>> bySize = new java.util.TreeMap<>();
    List<String> stages = new ArrayList<>();
    try (var files = Files.list(results)) {
      for (Path guardFile : files.filter(f -> f.getFileName().toString().startsWith("guard-")).toList()) {
        var g = JSON.readTree(guardFile.toFile());
        if (g.has("stage_seconds")) {
          Map<String, Double> stage = new LinkedHashMap<>();
          g.get("stage_seconds").fields().forEachRemaining(e -> {
            stage.put(e.getKey(), e.getValue().asDouble());
            if (!stages.contains(e.getKey())) {
              stages.add(e.getKey());
            }
          });
          bySize.put(g.get("rows").asLong(), stage);
        }
      }
    }
    if (bySize.isEmpty()) {
      return;
    }
    md.append("\nGuard seconds per stage (from the run summary, which times the stages up to the write; audit and ")
        .append("report follow it):\n\n| rows | ").append(String.join(" | ", stages)).append(" |\n|---:|")
        .append("---:|".repeat(stages.size())).append("\n");
    bySize.forEach((rows, stage) -> {
      md.append(String.format(java.util.Locale.ROOT, "| %,d |", rows));
      for (String name : stages) {
        md.append(stage.containsKey(name) ? String.format(java.util.Locale.ROOT, " %.1f |", stage.get(name)) : " – |");
      }
      md.append("\n");
    });
  }

  /**
   * CPU seconds per size, bare pass and guard, with the JIT compilers' and the collectors' share: what a fresh JVM
   * spends besides the work itself, from the measurements that recorded it.
   */
  private static void appendCpu(Path results, StringBuilder md) throws Exception {
    Map<Long, String> bySize = new java.util.TreeMap<>();
    try (var files = Files.list(results)) {
      for (Path guardFile : files.filter(f -> f.getFileName().toString().startsWith("guard-")).toList()) {
        var g = JSON.readTree(guardFile.toFile());
        Path bareFile = results.resolve(guardFile.getFileName().toString().replace("guard-", "bare-"));
        var b = Files.exists(bareFile) ? JSON.readTree(bareFile.toFile()) : null;
        if (g.has("cpu_seconds") && b != null && b.has("cpu_seconds")) {
          bySize.put(g.get("rows").asLong(), String.format(java.util.Locale.ROOT,
              "| %,d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n", g.get("rows").asLong(),
              b.get("cpu_seconds").asDouble(), b.get("jit_seconds").asDouble(), b.get("gc_seconds").asDouble(),
              g.get("cpu_seconds").asDouble(), g.get("jit_seconds").asDouble(), g.get("gc_seconds").asDouble()));
        }
      }
    }
    if (bySize.isEmpty()) {
      return;
    }
    md.append("\nCPU seconds of each measured JVM (all its threads), the seconds its JIT compilers spent compiling ")
        .append("(summed over the compiler threads, which run beside the work: on two cores they take CPU from it) ")
        .append("and its collector's pauses, from the JVM's own counters:\n\n")
        .append("| rows | bare CPU s | bare JIT s | bare GC s | guard CPU s | guard JIT s | guard GC s |\n")
        .append("|---:|---:|---:|---:|---:|---:|---:|\n");
    bySize.values().forEach(md::append);
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
