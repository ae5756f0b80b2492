package io.poisonguard.detect;

import io.poisonguard.spark.Columns;

/**
 * What ties a detector to the ensemble: the reason code it reports under, hence its score and evidence columns.
 * A higher score is more suspect; the evidence says why in a few words ({@code feature=capitalTotal,z=41.2}).
 */
public interface PoisonDetector {
  /** Short, stable code, e.g. {@code robust_z}; reasons read {@code code:evidence}. */
  String reasonCode();

  /** Column of the raw score. */
  default String scoreColumn() {
    return scoreColumn(reasonCode());
  }

  /** Column of the evidence text. */
  default String evidenceColumn() {
    return Columns.PREFIX + "evidence_" + reasonCode();
  }

  /** Score column of the detector with the given code. */
  static String scoreColumn(String code) {
    return Columns.PREFIX + "score_" + code;
  }
}
