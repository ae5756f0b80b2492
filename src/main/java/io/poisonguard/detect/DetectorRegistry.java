package io.poisonguard.detect;

import io.poisonguard.config.ConfigException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;

/**
 * The detectors a pipeline file can name, and the translation of their settings into Estimator Params.
 *
 * <p>Settings keys are snake_case forms of the Estimator's own Params, minus the column wiring ({@code featuresCol},
 * {@code labelCol}, {@code scoreCol}, {@code evidenceCol}), plus {@code enabled} (boolean; default true, but for
 * detectors off by default). Known today: {@code robust_z}: {@code enabled, min_class_count, tail_level}; {@code
 * isolation_forest}: {@code enabled, num_trees, max_samples, seed}; {@code label_consistency}: {@code enabled,
 * num_folds, ridge, num_trees, max_depth, seed}; {@code knn_label}, and {@code knn_batch} (run only when fitted on
 * trusted data): {@code enabled, num_neighbors, max_rows, seed}; {@code influence}: {@code enabled, ridge}; {@code
 * duplicates}: {@code enabled, num_tables, num_projections, bucket_width, seed}; {@code spectral}: {@code enabled,
 * ridge, seed}; {@code mahalanobis}: {@code enabled, max_sample_rows, support, seed}; {@code knn_shapley} (off unless
 * enabled): {@code enabled, num_neighbors, max_rows, truncation, seed}. Values are checked against the Param's type and
 * its validator; {@code seed}, when not given, comes from the pipeline's seed.
 */
public final class DetectorRegistry {
  /** The setting that switches a detector on or off. */
  public static final String ENABLED = "enabled";

  /** One line per detector: name (= reason code) → factory. Order = order of scoring and of tie-breaks. */
  private static final Map<String, Supplier<DetectorEstimator<?>>> DETECTORS = new LinkedHashMap<>();

  static {
    DETECTORS.put(RobustZDetector.CODE, RobustZDetector::new);
    DETECTORS.put(IsolationForestDetector.CODE, IsolationForestDetector::new);
    DETECTORS.put(LabelConsistencyDetector.CODE, LabelConsistencyDetector::new);
    DETECTORS.put(KnnLabelDetector.CODE, KnnLabelDetector::new);
    DETECTORS.put(BatchKnnLabelDetector.CODE, BatchKnnLabelDetector::new);
    DETECTORS.put(InfluenceDetector.CODE, InfluenceDetector::new);
    DETECTORS.put(DuplicateDetector.CODE, DuplicateDetector::new);
    DETECTORS.put(SpectralDetector.CODE, SpectralDetector::new);
    DETECTORS.put(MahalanobisDetector.CODE, MahalanobisDetector::new);
    DETECTORS.put(KnnShapleyDetector.CODE, KnnShapleyDetector::new);
  }

  private static final Set<String> WIRING = Set.of("featuresCol", "labelCol", "scoreCol", "evidenceCol");

  private DetectorRegistry() {}

  /** Registered detector names, in scoring order. */
  public static List<String> names() {
    return List.copyOf(DETECTORS.keySet());
  }

  /** Settings keys a detector accepts, sorted, {@code enabled} included. */
  public static List<String> knownSettings(String name) {
    return new ArrayList<>(tunableParams(factory(name).get()).keySet());
  }

  /**
   * Checks every detector name and setting key and value.
   *
   * @throws ConfigException naming {@code detect.detectors.<name>} or {@code detect.detectors.<name>.<key>}
   */
  public static void validate(Map<String, Map<String, Object>> settings) {
    settings.forEach((name, values) -> configure(name, values, null));
  }

  /**
   * The enabled detectors' Estimators, configured; a registered detector not mentioned runs with its defaults
   * when it is on by default ({@link DetectorEstimator#enabledByDefault}).
   *
   * @param settings per detector name, its settings (as in the pipeline file)
   * @param seed the pipeline's seed, applied to detectors with a {@code seed} Param not set explicitly
   */
  public static List<DetectorEstimator<?>> build(Map<String, Map<String, Object>> settings, long seed) {
    validate(settings);
    List<DetectorEstimator<?>> out = new ArrayList<>();
    for (String name : DETECTORS.keySet()) {
      Map<String, Object> values = settings.getOrDefault(name, Map.of());
      DetectorEstimator<?> estimator = configure(name, values, seed);
      Object enabled = values.get(ENABLED);
      if (enabled == null ? estimator.enabledByDefault() : (Boolean) enabled) {
        out.add(estimator);
      }
    }
    return out;
  }

  private static DetectorEstimator<?> configure(String name, Map<String, Object> values, Long seed) {
    DetectorEstimator<?> estimator = factory(name).get();
    Map<String, Param<?>> tunable = tunableParams(estimator);
    String prefix = "detect.detectors." + name;
    for (Map.Entry<String, Object> e : values.entrySet()) {
      String key = prefix + "." + e.getKey();
      if (!tunable.containsKey(e.getKey())) {
        throw new ConfigException(key + ": unknown setting; known: " + String.join(", ", tunable.keySet()));
      }
      if (e.getKey().equals(ENABLED)) {
        if (!(e.getValue() instanceof Boolean)) {
          throw new ConfigException(key + " must be true or false, got '" + e.getValue() + "'");
        }
        continue;
      }
      set(estimator, tunable.get(e.getKey()), e.getValue(), key);
    }
    if (seed != null && estimator.hasParam("seed") && !values.containsKey("seed")) {
      set(estimator, estimator.getParam("seed"), seed, prefix + ".seed");
    }
    return estimator;
  }

  private static Supplier<DetectorEstimator<?>> factory(String name) {
    Supplier<DetectorEstimator<?>> factory = DETECTORS.get(name);
    if (factory == null) {
      throw new ConfigException("detect.detectors." + name + ": unknown detector; known: "
          + String.join(", ", DETECTORS.keySet()));
    }
    return factory;
  }

  /** snake_case key → Param; {@code enabled} maps to null (it is not a Param). */
  private static Map<String, Param<?>> tunableParams(DetectorEstimator<?> estimator) {
    Map<String, Param<?>> out = new TreeMap<>();
    out.put(ENABLED, null);
    Arrays.stream(estimator.params()).filter(p -> !WIRING.contains(p.name()))
        .forEach(p -> out.put(snakeCase(p.name()), p));
    return out;
  }

  static String snakeCase(String camel) {
    return camel.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(java.util.Locale.ROOT);
  }

  /** Sets a value through the Param's own type, so a wrong type is one clear line, not a ClassCastException. */
  @SuppressWarnings("unchecked")
  private static void set(DetectorEstimator<?> estimator, Param<?> param, Object value, String key) {
    Object typed;
    if (param instanceof IntParam) {
      if (!isIntegral(value) || ((Number) value).longValue() != ((Number) value).intValue()) {
        throw new ConfigException(key + " must be a whole number, got '" + value + "'");
      }
      typed = ((Number) value).intValue();
    } else if (param instanceof LongParam) {
      if (!isIntegral(value)) {
        throw new ConfigException(key + " must be a whole number, got '" + value + "'");
      }
      typed = ((Number) value).longValue();
    } else if (param instanceof DoubleParam) {
      if (!(value instanceof Number)) {
        throw new ConfigException(key + " must be a number, got '" + value + "'");
      }
      typed = ((Number) value).doubleValue();
    } else if (param instanceof BooleanParam) {
      if (!(value instanceof Boolean)) {
        throw new ConfigException(key + " must be true or false, got '" + value + "'");
      }
      typed = value;
    } else {
      if (!(value instanceof String)) {
        throw new ConfigException(key + " must be text, got '" + value + "'");
      }
      typed = value;
    }
    Param<Object> p = (Param<Object>) param;
    if (!Boolean.TRUE.equals(p.isValid().apply(typed))) {
      throw new ConfigException(key + ": value " + value + " is out of range (" + p.doc() + ")");
    }
    estimator.set(p, typed);
  }

  private static boolean isIntegral(Object value) {
    return value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte;
  }
}
