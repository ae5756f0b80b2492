package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * Where a batch comes from and how to read it.
 *
 * @param path file, folder or glob (relative paths resolve against the working directory)
 * @param format csv, parquet, json (JSON lines) or delta
 * @param label the label column
 * @param id optional column holding a stable record id
 * @param source optional column naming each record's feed or partner (else the file name is the source)
 * @param features the feature columns, or absent for "every column but label, id and source"
 * @param exclude columns left out when {@code features} is absent
 * @param schema optional column types (double, string, ...); columns not named are inferred
 * @param options reader options: csv takes {@code delimiter} (one character); the other formats take none
 */
public record InputConfig(
    @JsonProperty(value = "path", required = true) String path,
    @JsonProperty("format") String format,
    @JsonProperty(value = "label", required = true) String label,
    @JsonProperty("id") String id,
    @JsonProperty("source") String source,
    @JsonProperty("features") List<String> features,
    @JsonProperty("exclude") List<String> exclude,
    @JsonProperty("schema") Map<String, String> schema,
    @JsonProperty("options") Map<String, String> options) {

  /** Formats the reader understands. */
  public static final List<String> FORMATS = List.of("csv", "parquet", "json", "delta");

  public InputConfig {
    format = format == null ? "csv" : format.toLowerCase(java.util.Locale.ROOT);
    if (!FORMATS.contains(format)) {
      throw new ConfigException("input.format: '" + format + "' is not supported; use one of " + FORMATS);
    }
    if (path == null || path.isBlank()) {
      throw new ConfigException("input.path is missing: name the file or folder to read");
    }
    if (label == null || label.isBlank()) {
      throw new ConfigException("input.label is missing: name the label column");
    }
    features = features == null ? null : List.copyOf(features);
    exclude = exclude == null ? List.of() : List.copyOf(exclude);
    schema = schema == null ? Map.of() : Map.copyOf(schema);
    options = options == null ? Map.of() : Map.copyOf(options);
    for (Map.Entry<String, String> option : new java.util.TreeMap<>(options).entrySet()) {
      if (!format.equals("csv") || !option.getKey().equals("delimiter")) {
        throw new ConfigException("input.options." + option.getKey() + ": not an option of the " + format
            + " reader; " + (format.equals("csv") ? "csv takes delimiter" : format + " takes none"));
      }
      if (option.getValue() == null || option.getValue().length() != 1) {
        throw new ConfigException("input.options.delimiter: '" + option.getValue() + "' is not one character; "
            + "give one, e.g. ';' or \"\\t\" for a tab");
      }
    }
  }
}
