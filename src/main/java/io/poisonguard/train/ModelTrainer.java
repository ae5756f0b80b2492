package io.poisonguard.train;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Trains one kind of {@link Classifier} on prepared rows: a vector column {@code _pg_features}, a class index
 * {@code _pg_label_index} (double, no NaN) and a row weight {@code _pg_weight} (double, 1 unless the row is an
 * augmented copy sharing its original's weight). The driver holds only the model, never the rows.
 */
public interface ModelTrainer {
  /** The name a pipeline file selects it by, e.g. {@code mllib-random-forest}. */
  String name();

  /** Fits a classifier; every random choice takes {@code seed}. */
  Classifier fit(Dataset<Row> prepared, int numClasses, int numFeatures, long seed);
}
