package io.poisonguard.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;

/**
 * A Tribuo {@code Model<Label>} over prepared features. Class index {@code i} is the Tribuo label named {@code "i"}
 * and feature {@code j} the Tribuo feature named {@link #featureName featureName(j)}, so the saved protobuf model is
 * usable from Tribuo alone. Classes the model never saw get probability 0.
 *
 * <p>Saved as {@code classifier.json}, Tribuo's protobuf model {@value #MODEL_FILE} and the model's provenance (the
 * trainer, its settings and seed, the data's shape) as {@value #PROVENANCE_FILE}, for audits that must say how a
 * model was trained.
 */
public final class TribuoClassifier implements Classifier {
  /** Tribuo's protobuf serialization of the model. */
  public static final String MODEL_FILE = "model.tribuo";
  /** Tribuo's provenance of the model, in Tribuo's text rendering. */
  public static final String PROVENANCE_FILE = "provenance.txt";
  private static final long serialVersionUID = 1L;

  private final String trainer;
  private final Model<Label> model;
  private final int numClasses;
  private final String[] names;

  /** Wraps {@code model}, trained by the trainer named {@code trainer} on labels {@code "0".."numClasses-1"}. */
  public TribuoClassifier(String trainer, Model<Label> model, int numClasses, int numFeatures) {
    this.trainer = trainer;
    this.model = model;
    this.numClasses = numClasses;
    this.names = featureNames(numFeatures);
  }

  /**
   * The Tribuo feature name of feature {@code j}: zero-padded to the width of the largest index, so that Tribuo's
   * name order (it sorts features by name) is the index order.
   */
  public static String featureName(int j, int numFeatures) {
    int width = String.valueOf(Math.max(numFeatures - 1, 0)).length();
    return "f" + "0".repeat(width - String.valueOf(j).length()) + j;
  }

  static String[] featureNames(int numFeatures) {
    String[] names = new String[numFeatures];
    for (int j = 0; j < numFeatures; j++) {
      names[j] = featureName(j, numFeatures);
    }
    return names;
  }

  /** The Tribuo label of class index {@code k}. */
  static Label label(int k) {
    return new Label(Integer.toString(k));
  }

  /** Tribuo's example for one row: the features under {@code names}, the given label and weight. */
  static Example<Label> example(String[] names, Label label, double[] features, double weight) {
    ArrayExample<Label> example = new ArrayExample<>(label, names, features);
    example.setWeight((float) weight);
    return example;
  }

  /** The wrapped Tribuo model. */
  public Model<Label> model() {
    return model;
  }

  /** The model's Tribuo provenance: trainer class and settings (seed included), data shape, training time. */
  public String provenance() {
    return model.getProvenance().toString();
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public int numFeatures() {
    return names.length;
  }

  @Override
  public String trainer() {
    return trainer;
  }

  @Override
  public double[] probabilities(double[] features) {
    Prediction<Label> prediction = model.predict(example(names, LabelFactory.UNKNOWN_LABEL, features, 1));
    double[] p = new double[numClasses];
    if (prediction.hasProbabilities()) {
      prediction.getOutputScores().forEach((name, label) -> p[Integer.parseInt(name)] = label.getScore());
    } else {
      // A model without a distribution only names its class: all the mass on it.
      p[Integer.parseInt(prediction.getOutput().getLabel())] = 1;
    }
    return p;
  }

  @Override
  public void save(String dir) throws IOException {
    Classifiers.writeDescriptor(dir, trainer,
        Classifiers.fields().put("classes", numClasses).put("features", names.length).put("model", MODEL_FILE));
    model.serializeToFile(Path.of(dir, MODEL_FILE));
    Files.writeString(Path.of(dir, PROVENANCE_FILE), provenance());
  }

  /** Reads a classifier written by {@link #save}. */
  static TribuoClassifier load(String dir, JsonNode descriptor) throws IOException {
    Model<?> loaded = Model.deserializeFromFile(Path.of(dir, descriptor.path("model").asText(MODEL_FILE)));
    if (!loaded.validate(Label.class)) {
      throw new IOException(dir + "/" + MODEL_FILE + " is not a Tribuo classification model");
    }
    @SuppressWarnings("unchecked")
    Model<Label> model = (Model<Label>) loaded;
    return new TribuoClassifier(descriptor.path("trainer").asText(), model, descriptor.path("classes").asInt(),
        descriptor.path("features").asInt());
  }
}
