package io.poisonguard.detect;

import java.io.Serializable;
import org.apache.spark.ml.linalg.Vector;

/**
 * Scores one prepared row. Implementations hold only a fitted model's small state, so they ship to executors
 * inside the task closure and every row is scored where it lives.
 */
@FunctionalInterface
public interface ScoreWithEvidence extends Serializable {
  /**
   * Scores a row.
   *
   * @param features the prepared feature vector
   * @param label the class index, or NaN when the label was not seen when fitting
   * @param evidence receives the evidence text of this row
   * @return the score, higher is more suspect
   */
  double score(Vector features, double label, StringBuilder evidence);
}
