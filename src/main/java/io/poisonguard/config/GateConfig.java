package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Thresholds that decide whether a batch passes. A value above a {@code max_*} threshold fails the batch; above
 * the matching {@code warn_*} threshold it warns. Drift thresholds apply only when a reference exists.
 *
 * @param maxQuarantineFraction fail when quarantined / rows read exceeds this
 * @param warnQuarantineFraction warn when quarantined / rows read exceeds this
 * @param maxRejectedFraction fail when rejected / rows read exceeds this
 * @param maxPsi fail when any feature's population stability index exceeds this
 * @param warnPsi warn when any feature's PSI exceeds this
 * @param maxLabelShareChange fail when any class's share moves by more than this (absolute)
 * @param warnLabelShareChange warn when any class's share moves by more than this
 */
public record GateConfig(double maxQuarantineFraction, double warnQuarantineFraction, double maxRejectedFraction,
    double maxPsi, double warnPsi, double maxLabelShareChange, double warnLabelShareChange) {

  @JsonCreator
  public static GateConfig of(
      @JsonProperty("max_quarantine_fraction") Double maxQuarantineFraction,
      @JsonProperty("warn_quarantine_fraction") Double warnQuarantineFraction,
      @JsonProperty("max_rejected_fraction") Double maxRejectedFraction,
      @JsonProperty("max_psi") Double maxPsi,
      @JsonProperty("warn_psi") Double warnPsi,
      @JsonProperty("max_label_share_change") Double maxLabelShareChange,
      @JsonProperty("warn_label_share_change") Double warnLabelShareChange) {
    return new GateConfig(or(maxQuarantineFraction, 0.2), or(warnQuarantineFraction, 0.05),
        or(maxRejectedFraction, 0.05), or(maxPsi, 0.25), or(warnPsi, 0.1), or(maxLabelShareChange, 0.1),
        or(warnLabelShareChange, 0.05));
  }

  public GateConfig {
    check("max_quarantine_fraction", maxQuarantineFraction);
    check("warn_quarantine_fraction", warnQuarantineFraction);
    check("max_rejected_fraction", maxRejectedFraction);
    check("max_label_share_change", maxLabelShareChange);
    check("warn_label_share_change", warnLabelShareChange);
    if (maxPsi < 0 || warnPsi < 0) {
      throw new ConfigException("gate.max_psi and gate.warn_psi must be >= 0");
    }
  }

  /** The defaults: fail above 20% quarantined, 5% rejected, PSI 0.25 or a 10-point label-share move. */
  public static GateConfig defaults() {
    return of(null, null, null, null, null, null, null);
  }

  private static double or(Double value, double fallback) {
    return value == null ? fallback : value;
  }

  private static void check(String key, double fraction) {
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new ConfigException("gate." + key + " must be a fraction between 0 and 1, got " + fraction);
    }
  }
}
