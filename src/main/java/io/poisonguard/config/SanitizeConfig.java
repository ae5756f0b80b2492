package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How a scored batch is cleaned beyond quarantining flagged rows.
 *
 * @param winsorize clip numeric features of clean rows to the reference's quantile bounds
 * @param winsorizeLower lower quantile bound (default 0.001)
 * @param winsorizeUpper upper quantile bound (default 0.999)
 */
public record SanitizeConfig(boolean winsorize, double winsorizeLower, double winsorizeUpper) {
  @JsonCreator
  public static SanitizeConfig of(@JsonProperty("winsorize") Boolean winsorize,
      @JsonProperty("winsorize_lower") Double lower, @JsonProperty("winsorize_upper") Double upper) {
    return new SanitizeConfig(winsorize != null && winsorize, lower == null ? 0.001 : lower,
        upper == null ? 0.999 : upper);
  }

  public SanitizeConfig {
    if (!(winsorizeLower >= 0 && winsorizeLower < winsorizeUpper && winsorizeUpper <= 1)) {
      throw new ConfigException("sanitize.winsorize_lower/winsorize_upper must satisfy 0 <= lower < upper <= 1, got "
          + winsorizeLower + " and " + winsorizeUpper);
    }
  }

  /** No winsorizing. */
  public static SanitizeConfig defaults() {
    return of(null, null, null);
  }
}
