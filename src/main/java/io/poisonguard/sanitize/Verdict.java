package io.poisonguard.sanitize;

/** Where a record of a batch ends up; each record gets exactly one. */
public enum Verdict {
  /** Accepted for training. */
  CLEAN("clean"),
  /** Would be clean, but the gate failed: held back for review. */
  STAGED("staged"),
  /** Flagged by the detectors, with reasons. */
  QUARANTINE("quarantine"),
  /** Could not be read. */
  REJECTED("rejected");

  private final String table;

  Verdict(String table) {
    this.table = table;
  }

  /** Name of the Delta table under the pipeline's warehouse folder. */
  public String table() {
    return table;
  }
}
