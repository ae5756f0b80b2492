package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * Spark settings of a pipeline.
 *
 * @param master master URL; absent means the {@code --master} flag, {@code spark.master}, or {@code local[*]}
 * @param conf extra Spark settings
 */
public record SparkConfig(@JsonProperty("master") String master, @JsonProperty("conf") Map<String, String> conf) {
  public SparkConfig {
    conf = conf == null ? Map.of() : Map.copyOf(conf);
  }

  /** No master, no extra settings. */
  public static SparkConfig defaults() {
    return new SparkConfig(null, null);
  }
}
