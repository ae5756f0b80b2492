package io.poisonguard.detect;

import io.poisonguard.config.ConfigException;
import java.util.Arrays;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;

/**
 * Column Params shared by every detector Estimator and Model, and the schema check both run before any work.
 * The Param fields live in the two base classes (an interface cannot hold per-instance state); the logic
 * that uses them lives here, once.
 */
public interface DetectorParams extends Params, PoisonDetector {
  /** Input vector column (default {@code _pg_features}). */
  Param<String> featuresCol();

  /** Input class-index column, double (default {@code _pg_label_index}); NaN means an unknown class. */
  Param<String> labelCol();

  /** Output score column (default {@code _pg_score_<code>}). */
  Param<String> scoreCol();

  /** Output evidence column (default {@code _pg_evidence_<code>}). */
  Param<String> evidenceCol();

  /** Whether the detector reads the label column; unsupervised detectors ignore it. */
  boolean usesLabel();

  default String getFeaturesCol() {
    return getOrDefault(featuresCol());
  }

  default String getLabelCol() {
    return getOrDefault(labelCol());
  }

  default String getScoreCol() {
    return getOrDefault(scoreCol());
  }

  default String getEvidenceCol() {
    return getOrDefault(evidenceCol());
  }

  /**
   * Checks the input columns exist with the right types and that the outputs do not clash, so a wrong
   * wiring fails with one line naming the column instead of deep inside a Spark job.
   */
  default void validateInput(StructType schema) {
    requireColumn(schema, getFeaturesCol(), SQLDataTypes.VectorType(), "feature vector");
    if (usesLabel()) {
      String label = getLabelCol();
      if (!Arrays.asList(schema.fieldNames()).contains(label)) {
        throw missing(schema, label, "class index");
      }
      if (!(schema.apply(label).dataType() instanceof NumericType)) {
        throw new ConfigException(reasonCode() + ": class index column '" + label + "' has type "
            + schema.apply(label).dataType().simpleString() + "; expected a number (run FeaturePreparer first)");
      }
    }
  }

  /** Schema after scoring: input plus the score (double) and evidence (string) columns. */
  default StructType outputSchema(StructType schema) {
    validateInput(schema);
    for (String out : new String[] {getScoreCol(), getEvidenceCol()}) {
      if (Arrays.asList(schema.fieldNames()).contains(out)) {
        throw new ConfigException(reasonCode() + ": output column '" + out + "' already exists in the input");
      }
    }
    return schema.add(getScoreCol(), DataTypes.DoubleType, false).add(getEvidenceCol(), DataTypes.StringType, true);
  }

  private void requireColumn(StructType schema, String name, DataType type, String what) {
    if (!Arrays.asList(schema.fieldNames()).contains(name)) {
      throw missing(schema, name, what);
    }
    if (!schema.apply(name).dataType().equals(type)) {
      throw new ConfigException(reasonCode() + ": " + what + " column '" + name + "' has type "
          + schema.apply(name).dataType().simpleString() + "; expected " + type.simpleString()
          + " (run FeaturePreparer first)");
    }
  }

  private ConfigException missing(StructType schema, String name, String what) {
    return new ConfigException(reasonCode() + ": " + what + " column '" + name + "' not found; columns present: "
        + String.join(", ", schema.fieldNames()));
  }
}
