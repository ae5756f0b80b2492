package io.poisonguard.detect;

import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.sql.types.StructType;

/**
 * Reads what the {@link FeaturePreparer} recorded in the column metadata of prepared rows (Spark ML attributes):
 * the feature names of the vector and the class names of the label index. Detectors size their state from it
 * without a pass over the data.
 */
public final class PreparedSchema {
  private PreparedSchema() {}

  /** Names of the prepared vector's features, in order. */
  public static String[] featureNames(StructType schema, String featuresCol) {
    AttributeGroup group = AttributeGroup.fromStructField(schema.apply(featuresCol));
    if (group.attributes().isEmpty()) {
      throw new IllegalArgumentException("column '" + featuresCol + "' has no feature names; prepare it with "
          + "FeaturePreparer");
    }
    Attribute[] attributes = group.attributes().get();
    String[] names = new String[attributes.length];
    for (int i = 0; i < attributes.length; i++) {
      names[i] = attributes[i].name().getOrElse(() -> "feature");
    }
    return names;
  }

  /** Class names of the label index column, by index. */
  public static String[] classes(StructType schema, String labelCol) {
    Attribute attribute = Attribute.fromStructField(schema.apply(labelCol));
    if (!(attribute instanceof NominalAttribute nominal) || nominal.values().isEmpty()) {
      throw new IllegalArgumentException("column '" + labelCol + "' has no class names; prepare it with "
          + "FeaturePreparer");
    }
    return nominal.values().get();
  }
}
