package io.poisonguard.detect;

import io.poisonguard.spark.Columns;

/**
 * What ties a detector to the columns it writes: every detector has a short reason code (also its name in the
 * pipeline file and in {@code _pg_reasons}), writes its raw score to {@code _pg_score_<code>} and its
 * human-readable evidence to {@code _pg_evidence_<code>}.
 */
public interface PoisonDetector {
  /** Short snake_case code, e.g. {@code robust_z}; used as the reason prefix and the registry name. */
  String reasonCode();

  /**
   * Whether the raw score is unbounded above (a distance), as opposed to bounded (a probability-like value).
   * Unbounded scores are calibrated on a log scale so that a heavy clean tail does not stretch the fitted
   * exponential tail and let ordinary rows through as extreme.
   */
  boolean unboundedScore();

  /** The raw score column a detector with this code writes. */
  static String scoreColumn(String code) {
    return Columns.PREFIX + "score_" + code;
  }

  /** The evidence column a detector with this code writes (a helper: dropped from the final output). */
  static String evidenceColumn(String code) {
    return Columns.PREFIX + "evidence_" + code;
  }
}
