package io.poisonguard.detect;

import java.util.Arrays;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Reads the feature names {@link FeaturePreparerModel} attached to a vector column, so evidence can name them. */
final class FeatureNames {
  private FeatureNames() {}

  /** Names of the vector's entries; {@code f<i>} where the column carries no names. */
  static String[] of(Dataset<?> dataset, String vectorCol) {
    AttributeGroup group = AttributeGroup.fromStructField(dataset.schema().apply(vectorCol));
    int size = group.size();
    if (size < 0) {
      // No attributes: one row tells the length (one row only, never the dataset).
      Row first = dataset.select(vectorCol).first();
      size = ((Vector) first.get(0)).size();
    }
    String[] names = new String[size];
    Arrays.setAll(names, i -> "f" + i);
    if (group.attributes().isDefined()) {
      Attribute[] attributes = group.attributes().get();
      for (int i = 0; i < attributes.length; i++) {
        if (attributes[i].name().isDefined()) {
          names[i] = attributes[i].name().get();
        }
      }
    }
    return names;
  }
}
