package io.poisonguard.gate;

import io.poisonguard.config.GateConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Decides pass, warn or fail from a pipeline's thresholds; computes nothing itself (checks apart from metrics). */
public final class Gate {
  private final GateConfig config;

  /** A gate with the given thresholds. */
  public Gate(GateConfig config) {
    this.config = config;
  }

  /** Judges one batch. */
  public GateDecision decide(GateInputs in) {
    List<String> failures = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    double read = Math.max(1, in.rowsRead());
    check(in.quarantined() / read, config.maxQuarantineFraction(), config.warnQuarantineFraction(),
        "quarantined share %s (%d of %d rows)".formatted(pct(in.quarantined() / read), in.quarantined(), in.rowsRead()),
        "gate.max_quarantine_fraction", "gate.warn_quarantine_fraction", failures, warnings);
    check(in.rejected() / read, config.maxRejectedFraction(), Double.NaN,
        "rejected share %s (%d malformed of %d rows)".formatted(pct(in.rejected() / read), in.rejected(), in.rowsRead()),
        "gate.max_rejected_fraction", null, failures, warnings);
    if (in.maxPsi() != null) {
      check(in.maxPsi(), config.maxPsi(), config.warnPsi(),
          "drift of feature '%s' (PSI %.3f)".formatted(in.maxPsiFeature(), in.maxPsi()),
          "gate.max_psi", "gate.warn_psi", failures, warnings);
    }
    if (in.maxLabelShareChange() != null) {
      check(in.maxLabelShareChange(), config.maxLabelShareChange(), config.warnLabelShareChange(),
          "label shift of class '%s' (share moved %s)".formatted(in.maxLabelShareClass(),
              pct(in.maxLabelShareChange())),
          "gate.max_label_share_change", "gate.warn_label_share_change", failures, warnings);
    }
    if (!failures.isEmpty()) {
      List<String> all = new ArrayList<>(failures);
      all.addAll(warnings);
      return new GateDecision(GateDecision.Outcome.FAIL, all);
    }
    return new GateDecision(warnings.isEmpty() ? GateDecision.Outcome.PASS : GateDecision.Outcome.WARN, warnings);
  }

  private static void check(double value, double max, double warn, String what, String maxKey, String warnKey,
      List<String> failures, List<String> warnings) {
    if (value > max) {
      failures.add(what + " exceeds " + maxKey + "=" + trim(max));
    } else if (warnKey != null && value > warn) {
      warnings.add(what + " exceeds " + warnKey + "=" + trim(warn));
    }
  }

  private static String pct(double fraction) {
    return String.format(Locale.ROOT, "%.2f%%", 100 * fraction);
  }

  private static String trim(double v) {
    return String.format(Locale.ROOT, "%s", v);
  }
}
