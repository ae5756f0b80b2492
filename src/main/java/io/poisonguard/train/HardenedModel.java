package io.poisonguard.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.poisonguard.detect.FeaturePreparerModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A trained model as PoisonGuard saves and serves it: the feature preparation fitted on its training rows, the input
 * guard, the classifier, and its record (provenance, settings, evaluation). Saved as a folder: {@code preparer/}
 * (Spark ML writer), {@code classifier/} (the classifier library's own format), {@code guard.json} and
 * {@code model.json}.
 *
 * @param preparer preparation of raw columns into {@code _pg_features}
 * @param guard clipping and squeezing applied before the classifier
 * @param classifier the classifier
 * @param record provenance and evaluation, written as {@code model.json}
 */
public record HardenedModel(FeaturePreparerModel preparer, InputGuard guard, Classifier classifier,
    ObjectNode record) {
  /** The record's file name. */
  public static final String RECORD = "model.json";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final int PROBES = 64;

  /** Writes the model folder {@code dir}; fails if it exists, so a saved model is never overwritten. */
  public void save(String dir) throws IOException {
    Path folder = Path.of(dir);
    if (Files.exists(folder)) {
      throw new IOException(dir + " exists already; a saved model is never overwritten");
    }
    Path partial = folder.resolveSibling("." + folder.getFileName() + ".partial");
    deleteRecursively(partial);
    Files.createDirectories(partial);
    preparer.write().save(partial.resolve("preparer").toString());
    classifier.save(partial.resolve("classifier").toString());
    guard.save(partial);
    Files.writeString(partial.resolve(RECORD), JSON.writeValueAsString(record));
    Files.move(partial, folder);
  }

  /** Reads a model folder written by {@link #save}. */
  public static HardenedModel load(String dir) throws IOException {
    Path folder = Path.of(dir);
    if (!Files.isRegularFile(folder.resolve(RECORD))) {
      throw new IOException(dir + ": not a PoisonGuard model folder (no " + RECORD + ")");
    }
    return new HardenedModel(FeaturePreparerModel.load(folder.resolve("preparer").toString()),
        InputGuard.load(folder), Classifiers.load(folder.resolve("classifier").toString()),
        (ObjectNode) JSON.readTree(folder.resolve(RECORD).toFile()));
  }

  /**
   * A fingerprint of what the classifier computes, independent of file metadata (MLlib and Tribuo stamp their files
   * with times and random ids): SHA-256 over its probabilities, to 12 significant digits, on seeded probe points
   * (standard normal × 3 in robustly scaled units, where data lives). Two trainings that produce the same classifier
   * produce the same fingerprint.
   */
  public static String fingerprint(Classifier classifier) {
    SplittableRandom random = new SplittableRandom(0x5EEDL);
    int d = classifier.numFeatures();
    StringBuilder text = new StringBuilder();
    for (int p = 0; p < PROBES; p++) {
      double[] x = new double[d];
      for (int i = 0; i < d; i++) {
        x[i] = 3 * random.nextGaussian();
      }
      for (double v : classifier.probabilities(x)) {
        text.append(String.format("%.12g;", v));
      }
    }
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path)) {
      return;
    }
    try (var walk = Files.walk(path)) {
      for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
