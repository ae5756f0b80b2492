package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * Detection settings of a pipeline.
 *
 * @param targetFpr false-positive rate the ensemble threshold aims at on clean data (default 1%)
 * @param fitRows most rows the detectors are fitted on (about): a larger reference is sampled down to it by a
 *     seeded hash of {@code _pg_id}; every row is still scored. 0 fits on every row. Default 100,000.
 * @param detectors per detector name, its settings; the key {@code enabled} switches it on or off, the other
 *     keys are the detector's own parameters in snake_case (validated against the detector registry)
 * @param contamination how far the flag may reach beyond the target false-positive rate (default: not at all)
 */
public record DetectConfig(double targetFpr, long fitRows, Map<String, Map<String, Object>> detectors,
    Contamination contamination) {
  /** Default of {@code fit_rows}. */
  public static final long DEFAULT_FIT_ROWS = 100_000;

  @JsonCreator
  public DetectConfig(@JsonProperty("target_fpr") Double targetFpr, @JsonProperty("fit_rows") Long fitRows,
      @JsonProperty("detectors") Map<String, Map<String, Object>> detectors,
      @JsonProperty("contamination") Object contamination) {
    this(targetFpr == null ? 0.01 : targetFpr, fitRows == null ? DEFAULT_FIT_ROWS : fitRows,
        detectors == null ? Map.of() : detectors, Contamination.parse(contamination));
  }

  /** Settings without a contamination setting. */
  public DetectConfig(double targetFpr, long fitRows, Map<String, Map<String, Object>> detectors) {
    this(targetFpr, fitRows, detectors, Contamination.OFF);
  }

  /** Settings with the default {@code fit_rows}. */
  public DetectConfig(double targetFpr, Map<String, Map<String, Object>> detectors) {
    this(targetFpr, DEFAULT_FIT_ROWS, detectors);
  }

  public DetectConfig {
    if (!(targetFpr > 0 && targetFpr < 1)) {
      throw new ConfigException("detect.target_fpr must be between 0 and 1 (exclusive), got " + targetFpr);
    }
    if (fitRows < 0) {
      throw new ConfigException("detect.fit_rows must be 0 (every row) or a positive row count, got " + fitRows);
    }
    if (contamination == null) {
      contamination = Contamination.OFF;
    }
    // sorted, unmodifiable: validation meets the detectors and their settings in the same order on every run
    Map<String, Map<String, Object>> copy = new java.util.TreeMap<>();
    detectors.forEach((k, v) -> copy.put(k, v == null ? Map.of()
        : java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(v))));
    detectors = java.util.Collections.unmodifiableMap(copy);
  }

  /** Defaults: every registered detector with its default settings, 1% target false-positive rate. */
  public static DetectConfig defaults() {
    return new DetectConfig(0.01, DEFAULT_FIT_ROWS, Map.of());
  }

  /** These settings with another contamination setting. */
  public DetectConfig withContamination(Contamination setting) {
    return new DetectConfig(targetFpr, fitRows, detectors, setting);
  }
}
