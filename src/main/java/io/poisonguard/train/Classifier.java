package io.poisonguard.train;

import java.io.IOException;
import java.io.Serializable;

/**
 * A trained classifier over prepared feature vectors (the detector suite's {@code _pg_features}: imputed,
 * encoded and robustly scaled), small enough to broadcast and applied row by row inside Spark tasks.
 * Implementations are immutable and thread-safe.
 */
public interface Classifier extends Serializable {
  /** Number of classes; class indices are those of {@code _pg_label_index}. */
  int numClasses();

  /** Number of features the classifier expects. */
  int numFeatures();

  /** Class probabilities for one prepared feature vector (length {@link #numFeatures()}), summing to 1. */
  double[] probabilities(double[] features);

  /** The most probable class, ties to the lower index. */
  default int predict(double[] features) {
    return argMax(probabilities(features));
  }

  /** Name of the trainer that produced it, as written in a pipeline file's {@code train.trainer}. */
  String trainer();

  /**
   * Writes the classifier under {@code dir} (a new directory) in its library's own format where it has one
   * (MLlib's writer, Tribuo's protobuf), so users can load it without PoisonGuard. {@link Classifiers#load}
   * reads it back.
   */
  void save(String dir) throws IOException;

  /** Index of the largest entry, ties to the lower index. */
  static int argMax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
