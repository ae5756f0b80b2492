package io.poisonguard.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads a pipeline file, applies {@code --set key.path=value} overrides and validates the result, all before
 * Spark starts. Every problem becomes a {@link ConfigException} naming the file and the key.
 */
public final class PipelineLoader {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);

  private PipelineLoader() {}

  /**
   * A loaded pipeline with what the audit needs to identify it.
   *
   * @param config the validated pipeline
   * @param file where it was read from
   * @param sha256 hash of the file's bytes followed by the overrides, so a run records exactly what it ran
   * @param overrides the {@code --set} overrides applied, in order
   */
  public record Loaded(PipelineConfig config, Path file, String sha256, List<String> overrides) {}

  /** Reads and validates {@code file} with the given {@code key.path=value} overrides. */
  public static Loaded load(Path file, List<String> overrides) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the pipeline file (" + e.getClass().getSimpleName()
          + "); check the --pipeline path");
    }
    JsonNode tree;
    try {
      tree = YAML.readTree(bytes);
    } catch (JsonProcessingException e) {
      throw new ConfigException(file + ": not valid YAML at line "
          + (e.getLocation() == null ? "?" : e.getLocation().getLineNr()) + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ConfigException(file + ": cannot read the pipeline file: " + e.getMessage());
    }
    if (tree == null || !tree.isObject()) {
      throw new ConfigException(file + ": expected a YAML mapping with at least 'name' and 'input'");
    }
    for (String override : overrides) {
      applyOverride((ObjectNode) tree, override);
    }
    return new Loaded(bind(tree, file.toString()), file, hash(bytes, overrides), List.copyOf(overrides));
  }

  /** Binds a YAML tree to a {@link PipelineConfig}; {@code origin} names the file in error messages. */
  public static PipelineConfig bind(JsonNode tree, String origin) {
    try {
      return YAML.treeToValue(tree, PipelineConfig.class);
    } catch (UnrecognizedPropertyException e) {
      String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream()
          .map(Object::toString).sorted().collect(Collectors.joining(", "));
      throw new ConfigException(origin + ": unknown key '" + keyPath(e) + "'; known keys there: " + known);
    } catch (ValueInstantiationException e) {
      Throwable cause = e.getCause();
      if (cause instanceof ConfigException ce) {
        throw new ConfigException(origin + ": " + ce.getMessage());
      }
      throw new ConfigException(origin + ": invalid value at '" + keyPath(e) + "': " + e.getOriginalMessage());
    } catch (MismatchedInputException e) {
      String key = keyPath(e);
      if (e.getOriginalMessage().contains("Missing required")) {
        throw new ConfigException(origin + ": missing key '" + key + "'");
      }
      throw new ConfigException(origin + ": key '" + key + "' has the wrong type: expected "
          + simpleType(e.getTargetType()));
    } catch (JsonProcessingException e) {
      throw new ConfigException(origin + ": " + e.getOriginalMessage());
    }
  }

  private static String simpleType(Class<?> type) {
    if (type == null) {
      return "another type";
    }
    if (Number.class.isAssignableFrom(type) || type == double.class || type == long.class) {
      return "a number";
    }
    if (type == Boolean.class || type == boolean.class) {
      return "true or false";
    }
    if (List.class.isAssignableFrom(type)) {
      return "a list";
    }
    if (java.util.Map.class.isAssignableFrom(type) || type.isRecord()) {
      return "a mapping";
    }
    return type == String.class ? "a string" : type.getSimpleName();
  }

  private static String keyPath(JsonMappingException e) {
    return e.getPath().stream()
        .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
        .collect(Collectors.joining(".")).replace(".[", "[");
  }

  /** Sets {@code a.b.c=value} in the tree, creating mappings on the way; the value is parsed as YAML. */
  public static void applyOverride(ObjectNode root, String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("--set " + override + ": expected key.path=value");
    }
    String[] keys = override.substring(0, eq).trim().split("\\.");
    JsonNode value;
    try {
      value = YAML.readTree(override.substring(eq + 1));
    } catch (JsonProcessingException e) {
      throw new ConfigException("--set " + override + ": the value is not valid YAML");
    }
    ObjectNode node = root;
    for (int i = 0; i < keys.length - 1; i++) {
      JsonNode child = node.get(keys[i]);
      if (child == null || child.isNull()) {
        child = node.putObject(keys[i]);
      } else if (!child.isObject()) {
        throw new ConfigException("--set " + override + ": '" + keys[i] + "' is not a mapping");
      }
      node = (ObjectNode) child;
    }
    node.set(keys[keys.length - 1], value == null || value.isMissingNode() ? node.nullNode() : value);
  }

  private static String hash(byte[] bytes, List<String> overrides) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(bytes);
      for (String o : overrides) {
        digest.update(("\n--set " + o).getBytes(StandardCharsets.UTF_8));
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
