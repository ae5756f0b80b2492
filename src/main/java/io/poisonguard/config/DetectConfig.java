package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Detection settings of a pipeline.
 *
 * @param targetFpr false-positive rate the ensemble threshold aims at on clean data (default 1%)
 * @param detectors per detector name, its settings; the key {@code enabled} switches it on or off, the other
 *     keys are the detector's own parameters in snake_case (validated against the detector registry)
 */
public record DetectConfig(double targetFpr, Map<String, Map<String, Object>> detectors) {
  @JsonCreator
  public DetectConfig(@JsonProperty("target_fpr") Double targetFpr,
      @JsonProperty("detectors") Map<String, Map<String, Object>> detectors) {
    this(targetFpr == null ? 0.01 : targetFpr, detectors == null ? Map.of() : detectors);
  }

  public DetectConfig {
    if (!(targetFpr > 0 && targetFpr < 1)) {
      throw new ConfigException("detect.target_fpr must be between 0 and 1 (exclusive), got " + targetFpr);
    }
    Map<String, Map<String, Object>> copy = new LinkedHashMap<>();
    detectors.forEach((k, v) -> copy.put(k, v == null ? Map.of() : Map.copyOf(v)));
    detectors = Map.copyOf(copy);
  }

  /** Defaults: every registered detector with its default settings, 1% target false-positive rate. */
  public static DetectConfig defaults() {
    return new DetectConfig(0.01, Map.of());
  }
}
