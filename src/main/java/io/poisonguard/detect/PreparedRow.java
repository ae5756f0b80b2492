package io.poisonguard.detect;

import org.apache.spark.ml.linalg.Vector;

/**
 * One prepared row as the {@link RowScoringModel.RowScorer}s read it: its feature values, and the log-compressed
 * design vector ({@link LogisticFits#design}) computed on first use. The guard scores a row with every detector in
 * one call ({@link RowScoringModel#scoreTogether}), and five of them read the design vector: computed once per row
 * instead of once per detector, a 1M-row batch is spared some 130 million logarithms. Both arrays are shared by the
 * row's scorers and must not be written to.
 */
public final class PreparedRow {
  private final Vector features;
  private final double[] values;
  private double[] design;

  /** The row with the given prepared feature vector. */
  public PreparedRow(Vector features) {
    this.features = features;
    values = features.toArray();
  }

  /** The prepared feature vector. */
  public Vector features() {
    return features;
  }

  /** The prepared feature values, dense. */
  public double[] values() {
    return values;
  }

  /** The compressed features and the intercept ({@link LogisticFits#design}). */
  public double[] design() {
    if (design == null) {
      design = LogisticFits.design(values);
    }
    return design;
  }
}
