package io.poisonguard.train;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.ml.classification.GBTClassificationModel;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.classification.RandomForestClassificationModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.util.MLWritable;

/**
 * A fitted MLlib probabilistic classifier (logistic regression, random forest, gradient-boosted trees) applied row
 * by row through {@code predictProbability}, so it broadcasts and scores inside tasks like any other classifier.
 * Saved as {@code classifier.json} plus the model in MLlib's own format under {@value #MODEL_DIR}, loadable with
 * the model class's {@code load} without PoisonGuard.
 */
public final class MllibClassifier implements Classifier {
  /** Subfolder holding MLlib's saved model. */
  public static final String MODEL_DIR = "mllib";
  private static final long serialVersionUID = 1L;

  /** The model classes a descriptor may name, with their readers: loading never instantiates any other class. */
  private static final Map<String, Function<String, ProbabilisticClassificationModel<Vector, ?>>> READERS = Map.of(
      LogisticRegressionModel.class.getName(), LogisticRegressionModel::load,
      RandomForestClassificationModel.class.getName(), RandomForestClassificationModel::load,
      GBTClassificationModel.class.getName(), GBTClassificationModel::load);

  private final String trainer;
  private final ProbabilisticClassificationModel<Vector, ?> model;
  private final int numFeatures;

  /** Wraps {@code model}, fitted by the trainer named {@code trainer} on {@code numFeatures} features. */
  public MllibClassifier(String trainer, ProbabilisticClassificationModel<Vector, ?> model, int numFeatures) {
    this.trainer = trainer;
    this.model = model;
    this.numFeatures = numFeatures;
  }

  /** The wrapped MLlib model. */
  public ProbabilisticClassificationModel<Vector, ?> model() {
    return model;
  }

  @Override
  public int numClasses() {
    return model.numClasses();
  }

  @Override
  public int numFeatures() {
    return numFeatures;
  }

  @Override
  public String trainer() {
    return trainer;
  }

  @Override
  public double[] probabilities(double[] features) {
    return model.predictProbability(Vectors.dense(features)).toArray();
  }

  @Override
  public void save(String dir) throws IOException {
    Classifiers.writeDescriptor(dir, trainer, Classifiers.fields().put("classes", numClasses())
        .put("features", numFeatures).put("model", model.getClass().getName()));
    ((MLWritable) model).write().save(Path.of(dir, MODEL_DIR).toString());
  }

  /** Reads a classifier written by {@link #save}; needs an active SparkSession (MLlib's reader does). */
  static MllibClassifier load(String dir, JsonNode descriptor) throws IOException {
    String modelClass = descriptor.path("model").asText();
    Function<String, ProbabilisticClassificationModel<Vector, ?>> reader = READERS.get(modelClass);
    if (reader == null) {
      throw new IOException(dir + "/" + Classifiers.DESCRIPTOR + ": '" + modelClass
          + "' is not an MLlib model class PoisonGuard reads (" + String.join(", ", READERS.keySet()) + ")");
    }
    return new MllibClassifier(descriptor.path("trainer").asText(), reader.apply(Path.of(dir, MODEL_DIR).toString()),
        descriptor.path("features").asInt());
  }
}
