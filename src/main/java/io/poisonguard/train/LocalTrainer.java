package io.poisonguard.train;

import java.io.Serializable;

/**
 * Trains a {@link Classifier} on rows held in memory, inside one Spark task: the base learners of a
 * partition ensemble (each sees one hash partition) and single-task library trainers. Serializable, so the
 * trainer itself ships to the executors.
 */
public interface LocalTrainer extends Serializable {
  /** The name a pipeline file selects it by. */
  String name();

  /**
   * Fits a classifier on {@code features[i]} with class {@code labels[i]} and weight {@code weights[i]}; every random
   * choice takes {@code seed}. A class absent from the rows must still be a valid output index.
   */
  Classifier fit(double[][] features, int[] labels, double[] weights, int numClasses, long seed);
}
