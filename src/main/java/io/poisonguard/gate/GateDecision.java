package io.poisonguard.gate;

import java.util.List;

/**
 * The gate's verdict on a batch, with a sentence per threshold that was crossed.
 *
 * @param outcome pass, warn or fail
 * @param reasons what crossed which threshold, in words a data engineer can act on; empty on a clean pass
 */
public record GateDecision(Outcome outcome, List<String> reasons) {
  public GateDecision {
    reasons = List.copyOf(reasons);
  }

  /** Gate outcomes, from best to worst. */
  public enum Outcome {
    PASS, WARN, FAIL;

    /** Lower-case name used in summaries and tables. */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** True unless the batch is blocked. */
  public boolean accepted() {
    return outcome != Outcome.FAIL;
  }
}
