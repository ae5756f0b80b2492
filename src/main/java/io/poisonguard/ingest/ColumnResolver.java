package io.poisonguard.ingest;

import io.poisonguard.config.ConfigException;
import io.poisonguard.config.InputConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Decides, from the pipeline's input settings and the columns an input actually has, which column is the label,
 * which are features and how each is read. All checks that name a column live here.
 */
final class ColumnResolver {
  private static final Set<String> NUMERIC_TYPES = Set.of("double", "float", "int", "integer", "long", "short",
      "byte", "number", "numeric", "decimal", "bigint", "smallint", "tinyint");
  private static final Set<String> TEXT_TYPES = Set.of("string", "categorical", "category", "boolean", "text");

  private ColumnResolver() {}

  /**
   * Resolves the columns.
   *
   * @param input the pipeline's input settings
   * @param origin the file or table the columns come from, for messages
   * @param names the input's columns, in order
   * @param detected the type each column appears to have: "numeric", "string", or the name of another type
   */
  static Resolved resolve(InputConfig input, String origin, List<String> names, Map<String, String> detected) {
    require(names, input.label(), "input.label", origin);
    if (input.id() != null) {
      require(names, input.id(), "input.id", origin);
    }
    if (input.source() != null) {
      require(names, input.source(), "input.source", origin);
    }
    input.exclude().forEach(c -> require(names, c, "input.exclude", origin));
    input.schema().keySet().forEach(c -> require(names, c, "input.schema", origin));
    List<String> features;
    if (input.features() != null) {
      input.features().forEach(c -> require(names, c, "input.features", origin));
      features = input.features();
    } else {
      features = new ArrayList<>();
      for (String c : names) {
        if (!c.equals(input.label()) && !c.equals(input.id()) && !c.equals(input.source())
            && !input.exclude().contains(c)) {
          features.add(c);
        }
      }
    }
    if (features.isEmpty()) {
      throw new ConfigException("input.features: no feature columns left in " + origin
          + "; list them under input.features");
    }
    if (features.contains(input.label())) {
      throw new ConfigException("input.features: the label column '" + input.label() + "' cannot be a feature");
    }
    Map<String, ColumnKind> kinds = new LinkedHashMap<>();
    List<String> numeric = new ArrayList<>();
    List<String> categorical = new ArrayList<>();
    for (String c : names) {
      boolean feature = features.contains(c);
      String declared = input.schema().get(c);
      String type = (declared != null ? declared : detected.getOrDefault(c, "string")).toLowerCase(Locale.ROOT);
      ColumnKind kind;
      if (NUMERIC_TYPES.contains(type)) {
        kind = ColumnKind.NUMERIC;
      } else if (TEXT_TYPES.contains(type) || !feature) {
        kind = ColumnKind.TEXT;
      } else {
        String key = declared != null ? "input.schema." + c : "input.features";
        throw new ConfigException(key + ": column '" + c + "' has type " + type
            + ", which is neither numeric nor categorical; declare it as double or string under input.schema, "
            + "or leave it out of the features");
      }
      boolean bookkeeping = c.equals(input.label()) || c.equals(input.id()) || c.equals(input.source());
      if (bookkeeping) {
        kind = ColumnKind.TEXT;
      }
      kinds.put(c, kind);
      if (feature) {
        (kind == ColumnKind.NUMERIC ? numeric : categorical).add(c);
      }
    }
    return new Resolved(List.copyOf(names), List.copyOf(kinds.values()),
        new FeatureSchema(input.label(), numeric, categorical));
  }

  private static void require(List<String> names, String column, String key, String origin) {
    if (!names.contains(column)) {
      String known = String.join(", ", names.size() <= 12 ? names : names.subList(0, 12))
          + (names.size() > 12 ? ", ... (" + names.size() + " columns)" : "");
      throw new ConfigException(key + ": column '" + column + "' is not in " + origin + "; its columns are: " + known);
    }
  }

  /** The resolved columns: names and kinds in input order, and the label/feature roles. */
  record Resolved(List<String> names, List<ColumnKind> kinds, FeatureSchema features) {}
}
