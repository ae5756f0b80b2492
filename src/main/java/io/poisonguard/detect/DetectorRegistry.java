package io.poisonguard.detect;

import io.poisonguard.config.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.spark.ml.param.Param;

/**
 * Every detector the guard knows, by reason code, and the translation of pipeline settings into its Params.
 * Adding a detector is one class and one line here.
 */
public final class DetectorRegistry {
  private static final Map<String, Supplier<DetectorEstimator<?>>> DETECTORS = new LinkedHashMap<>();

  static {
    DETECTORS.put(RobustZDetector.CODE, RobustZDetector::new);
    DETECTORS.put(IsolationForestDetector.CODE, IsolationForestDetector::new);
  }

  /** Params every detector has that pipelines do not set: columns are wired by the guard, the seed comes from
   * the pipeline's own seed. */
  private static final Set<String> WIRED = Set.of("featuresCol", "labelCol", "seed");

  private DetectorRegistry() {}

  /** Reason codes of every registered detector, in registry order. */
  public static List<String> codes() {
    return List.copyOf(DETECTORS.keySet());
  }

  /** Checks detector settings without building anything (before Spark starts). */
  public static void validate(Map<String, Map<String, Object>> settings) {
    configured(settings, 0L);
  }

  /**
   * The enabled detectors configured from {@code settings} (detector code → snake_case key → value). Detectors
   * are enabled unless {@code enabled: false}; every other key must name one of the detector's Params.
   */
  public static List<DetectorEstimator<?>> configured(Map<String, Map<String, Object>> settings, long seed) {
    for (String name : settings.keySet()) {
      if (!DETECTORS.containsKey(name)) {
        throw new ConfigException("detect.detectors." + name + ": unknown detector; known detectors: "
            + String.join(", ", DETECTORS.keySet()));
      }
    }
    List<DetectorEstimator<?>> enabled = new ArrayList<>();
    for (Map.Entry<String, Supplier<DetectorEstimator<?>>> entry : DETECTORS.entrySet()) {
      DetectorEstimator<?> detector = entry.getValue().get();
      detector.setSeed(seed);
      Map<String, Object> own = settings.getOrDefault(entry.getKey(), Map.of());
      boolean on = true;
      for (Map.Entry<String, Object> setting : own.entrySet()) {
        String key = "detect.detectors." + entry.getKey() + "." + setting.getKey();
        if (setting.getKey().equals("enabled")) {
          if (!(setting.getValue() instanceof Boolean b)) {
            throw new ConfigException(key + " must be true or false");
          }
          on = b;
          continue;
        }
        apply(detector, setting.getKey(), setting.getValue(), key);
      }
      if (on) {
        enabled.add(detector);
      }
    }
    if (enabled.isEmpty()) {
      throw new ConfigException("detect.detectors: every detector is disabled; enable at least one");
    }
    return enabled;
  }

  private static void apply(DetectorEstimator<?> detector, String snakeKey, Object value, String key) {
    String name = camel(snakeKey);
    if (WIRED.contains(name) || !detector.hasParam(name)) {
      throw new ConfigException(key + ": unknown setting; known settings: enabled"
          + (settings(detector).isEmpty() ? "" : ", " + String.join(", ", settings(detector))));
    }
    @SuppressWarnings("unchecked")
    Param<Object> param = (Param<Object>) detector.getParam(name);
    Object decoded;
    try {
      decoded = param.jsonDecode(new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(value));
    } catch (Exception e) {
      throw new ConfigException(key + ": '" + value + "' is not a valid value (" + param.doc() + ")");
    }
    if (!param.isValid().apply(decoded).equals(Boolean.TRUE)) {
      throw new ConfigException(key + ": '" + value + "' is out of range (" + param.doc() + ")");
    }
    detector.set(param, decoded);
  }

  private static List<String> settings(DetectorEstimator<?> detector) {
    TreeSet<String> names = new TreeSet<>();
    for (Param<?> p : detector.params()) {
      if (!WIRED.contains(p.name())) {
        names.add(p.name().replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT));
      }
    }
    return new ArrayList<>(names);
  }

  private static String camel(String snake) {
    StringBuilder s = new StringBuilder();
    boolean upper = false;
    for (char c : snake.toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        s.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return s.toString();
  }
}
