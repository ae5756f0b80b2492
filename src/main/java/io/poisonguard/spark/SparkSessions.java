package io.poisonguard.spark;

import io.poisonguard.config.ConfigException;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;

/** Builds the SparkSession every command uses: Delta enabled, settings tuned for small clusters and laptops. */
public final class SparkSessions {
  /** System property naming a Spark properties file applied over the built-in defaults. */
  public static final String DEFAULTS_PROPERTY = "poisonguard.spark.defaults";
  private static final String KRYO_REGISTRATOR = "spark.kryo.registrator";
  /** The master URL forms Spark's own parser takes (local, local[N], local[N,F], local-cluster[...], a scheme). */
  private static final Pattern MASTER_URL = Pattern.compile(
      "local|local\\[(\\*|\\d+)(,\\d+)?\\]|local-cluster\\[.+\\]|yarn|(spark|k8s|mesos)://\\S+");

  private SparkSessions() {}

  /**
   * Settings applied unless the caller overrides them. Each one was measured to matter on a 2-core machine
   * (see the project's STACK notes): the UI costs start-up time, 200 shuffle partitions and 50 Delta snapshot
   * partitions cost seconds per stage on small batches, the serializer reset bounds the heap a cached
   * partition takes, and the code generation limit keeps generated loops small enough for the JIT.
   */
  public static Map<String, String> defaults() {
    Map<String, String> conf = new LinkedHashMap<>();
    conf.put("spark.ui.enabled", "false");
    conf.put("spark.sql.shuffle.partitions", "8");
    conf.put("spark.databricks.delta.snapshotPartitions", "2");
    conf.put("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension");
    conf.put("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog");
    conf.put("spark.sql.session.timeZone", "UTC");
    // Cached batches are written and read with Java serialization, whose streams keep every object they have
    // passed until a reset (by default every 100 objects): a cached partition's 10,000-row batches all stayed on
    // the heap while it was written or read, and a 4M-row run ran out of a 1 GiB heap reading 1M-row partitions.
    conf.put("spark.serializer.objectStreamReset", "1");
    // Whole-stage code generation falls back to a generated function per operator where a fused one would exceed
    // 8,000 bytes of bytecode, the size above which HotSpot never compiles a method (Spark's documented advice for
    // HotSpot; its default, 65535, leaves such functions to the interpreter). The detection stage's pass over the
    // batch fuses the scan of its ~40 columns, every detector and the verdicts into a 13,958-byte loop, which ran
    // interpreted for the whole pass (842 of that pass's profile samples, 1M-row scale data). With the fallback,
    // three alternating pairs of 1M guard runs took 87.4 / 86.5 / 83.0 against 96.1 / 88.3 / 95.3 s (CPU 166 / 165 /
    // 159 against 183 / 169 / 182 s; the first pair profiled), with identical clean and quarantine tables.
    conf.put("spark.sql.codegen.hugeMethodLimit", "8000");
    return conf;
  }

  /**
   * Settings from the properties file named by the system property {@code poisonguard.spark.defaults} (the
   * launcher points it at {@code conf/spark-defaults.conf}); empty when unset.
   */
  static Map<String, String> fileDefaults() {
    String file = System.getProperty(DEFAULTS_PROPERTY);
    Map<String, String> conf = new LinkedHashMap<>();
    if (file == null || file.isBlank()) {
      return conf;
    }
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(Path.of(file))) {
      props.load(in);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read Spark defaults (" + e.getMessage() + ")");
    }
    props.stringPropertyNames().forEach(k -> conf.put(k, props.getProperty(k).trim()));
    return conf;
  }

  /**
   * Gets or creates the session. The master comes from {@code master} when given, else from
   * {@code spark.master} in the environment (spark-submit), else {@code local[*]}. When a session already runs,
   * it is returned with only {@code overrides} applied (runtime settings).
   */
  public static SparkSession create(String appName, String master, Map<String, String> overrides) {
    if (master != null && !master.isBlank()) {
      requireMasterUrl(master);
    }
    SparkSession existing = SparkSession.getDefaultSession().getOrElse(() -> null);
    if (existing != null) {
      // an embedding application (a notebook, a benchmark, a test) owns its session's settings: apply only the
      // caller's explicit overrides, never the defaults over what it chose
      overrides.forEach((k, v) -> existing.conf().set(k, v));
      return existing;
    }
    SparkSession.Builder builder = SparkSession.builder().appName(appName);
    Map<String, String> conf = defaults();
    conf.putAll(fileDefaults());
    conf.putAll(overrides);
    String effectiveMaster = master;
    if (effectiveMaster == null || effectiveMaster.isBlank()) {
      effectiveMaster = conf.getOrDefault("spark.master", System.getProperty("spark.master", "local[*]"));
    }
    requireMasterUrl(effectiveMaster);
    builder.master(effectiveMaster);
    // harmless under Spark's default serializer; under Kryo it is what lets the fitted models travel
    String registrators = conf.getOrDefault(KRYO_REGISTRATOR, System.getProperty(KRYO_REGISTRATOR, "")).trim();
    if (!Arrays.asList(registrators.split("\\s*,\\s*")).contains(KryoRegistration.class.getName())) {
      conf.put(KRYO_REGISTRATOR, (registrators.isEmpty() ? "" : registrators + ",") + KryoRegistration.class.getName());
    }
    if (effectiveMaster.startsWith("local")) {
      conf.putIfAbsent("spark.driver.host", "127.0.0.1");
      conf.putIfAbsent("spark.driver.bindAddress", "127.0.0.1");
    }
    conf.forEach(builder::config);
    return builder.getOrCreate();
  }

  private static void requireMasterUrl(String master) {
    if (!MASTER_URL.matcher(master).matches()) {
      // Spark would log its own failure with a stack trace before any caller could turn it into one line
      throw new ConfigException("master '" + master + "' is not a Spark master URL; use local[*], local[N], "
          + "spark://HOST:PORT, yarn or k8s://HOST:PORT (--master, or spark.master in the pipeline)");
    }
  }
}
