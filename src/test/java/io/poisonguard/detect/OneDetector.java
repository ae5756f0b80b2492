package io.poisonguard.detect;

import io.poisonguard.config.DetectConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/** Test settings that run a single registered detector, at a 1% target: for tests about one detector's path. */
final class OneDetector {
  private OneDetector() {}

  /** Every detector but {@code code} disabled. */
  static DetectConfig only(String code) {
    Map<String, Map<String, Object>> settings = new LinkedHashMap<>();
    for (String name : DetectorRegistry.names()) {
      settings.put(name, Map.of(DetectorRegistry.ENABLED, name.equals(code)));
    }
    return new DetectConfig(0.01, settings);
  }
}
