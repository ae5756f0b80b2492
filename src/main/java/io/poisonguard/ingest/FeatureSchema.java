package io.poisonguard.ingest;

import java.util.ArrayList;
import java.util.List;

/**
 * Which columns of an ingested batch are the label and the features, and of what kind.
 *
 * @param labelColumn the label column (read as a string)
 * @param numericFeatures features read as doubles (missing values are null)
 * @param categoricalFeatures features read as strings
 */
public record FeatureSchema(String labelColumn, List<String> numericFeatures, List<String> categoricalFeatures) {
  public FeatureSchema {
    numericFeatures = List.copyOf(numericFeatures);
    categoricalFeatures = List.copyOf(categoricalFeatures);
  }

  /** Every feature, numeric first, in a fixed order. */
  public List<String> allFeatures() {
    List<String> all = new ArrayList<>(numericFeatures);
    all.addAll(categoricalFeatures);
    return all;
  }
}
