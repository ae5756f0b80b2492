package io.poisonguard.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads back any saved {@link Classifier}: every classifier's directory holds {@code classifier.json} naming its
 * trainer, and the trainer's loader reads the rest.
 */
public final class Classifiers {
  static final String DESCRIPTOR = "classifier.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private Classifiers() {}

  /** Writes {@code classifier.json} into {@code dir} (created), naming the trainer plus the given fields. */
  static void writeDescriptor(String dir, String trainer, ObjectNode fields) throws IOException {
    Path folder = Path.of(dir);
    Files.createDirectories(folder);
    ObjectNode node = JSON.createObjectNode().put("trainer", trainer);
    node.setAll(fields);
    Files.writeString(folder.resolve(DESCRIPTOR), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
  }

  /** The descriptor written by {@link #writeDescriptor}. */
  static JsonNode readDescriptor(String dir) throws IOException {
    return JSON.readTree(Path.of(dir, DESCRIPTOR).toFile());
  }

  /** A fresh JSON object for descriptor fields. */
  static ObjectNode fields() {
    return JSON.createObjectNode();
  }

  /** Loads the classifier saved under {@code dir}. */
  public static Classifier load(String dir) throws IOException {
    JsonNode descriptor = readDescriptor(dir);
    String trainer = descriptor.path("trainer").asText();
    return switch (trainer) {
      case LinearSoftmax.TRAINER -> LinearSoftmax.load(dir, descriptor);
      case TribuoTrainers.LOGISTIC, TribuoTrainers.CART, TribuoTrainers.FOREST ->
          TribuoClassifier.load(dir, descriptor);
      case MllibTrainers.LOGISTIC, MllibTrainers.RANDOM_FOREST, MllibTrainers.GBT ->
          MllibClassifier.load(dir, descriptor);
      case PartitionEnsemble.TRAINER -> PartitionEnsemble.load(dir, descriptor);
      default -> throw new IOException(dir + "/" + DESCRIPTOR + ": unknown trainer '" + trainer + "'");
    };
  }
}
