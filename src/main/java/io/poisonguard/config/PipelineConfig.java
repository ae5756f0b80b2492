package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * A pipeline file: what to read, how to score, clean and gate it, and the seed for every random choice.
 *
 * @param name pipeline name; names the warehouse folder of its tables
 * @param seed seed for every random choice of the run
 * @param input the batch to inspect
 * @param reference optional trusted data the detectors and drift are fitted on (same reader settings as input
 *     except the path), or {@code last_accepted} for the clean rows of the newest accepted run that shares no row
 *     with the batch; absent means the batch is judged against its own robust bulk and drift against the last
 *     accepted run
 * @param detect detection settings
 * @param sanitize cleaning settings
 * @param gate gate thresholds
 * @param train hardened training after a passing gate, or null for none
 * @param spark Spark settings
 */
public record PipelineConfig(
    @JsonProperty(value = "name", required = true) String name,
    @JsonProperty("seed") Long seed,
    @JsonProperty(value = "input", required = true) InputConfig input,
    @JsonProperty("reference") String reference,
    @JsonProperty("detect") DetectConfig detect,
    @JsonProperty("sanitize") SanitizeConfig sanitize,
    @JsonProperty("gate") GateConfig gate,
    @JsonProperty("train") TrainConfig train,
    @JsonProperty("spark") SparkConfig spark) {

  public PipelineConfig {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9_-]*")) {
      throw new ConfigException("name: '" + name + "' must be letters, digits, '_' or '-' (it names a warehouse folder)");
    }
    seed = seed == null ? 42L : seed;
    detect = detect == null ? DetectConfig.defaults() : detect;
    sanitize = sanitize == null ? SanitizeConfig.defaults() : sanitize;
    gate = gate == null ? GateConfig.defaults() : gate;
    spark = spark == null ? SparkConfig.defaults() : spark;
  }
}
