package io.poisonguard.train;

/** A classifier whose every prediction carries a certified radius against poisoned training rows. */
public interface CertifiedClassifier extends Classifier {
  /** How many training rows inserted or removed cannot change {@code predict(features)}. */
  int certifiedRadius(double[] features);

  /** The largest radius any prediction can carry. */
  int maxRadius();
}
