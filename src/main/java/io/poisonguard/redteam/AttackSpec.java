package io.poisonguard.redteam;

import io.poisonguard.config.ConfigException;
import java.util.Map;

/**
 * What to inject: the attack, how much, with which seed, and its own options.
 *
 * @param attack attack name (see {@link Attacks})
 * @param rate the poisoned share of the output rows (for the source attack: the flipped share of the bad feed)
 * @param seed seed of every random choice
 * @param options attack options by name (e.g. {@code target-class}, {@code source-class}, {@code trigger})
 */
public record AttackSpec(String attack, double rate, long seed, Map<String, String> options) {
  public AttackSpec {
    if (!(rate > 0 && rate < 1)) {
      throw new ConfigException("redteam: --rate must be between 0 and 1 (exclusive), got " + rate);
    }
    options = Map.copyOf(options);
  }

  /** An option, or {@code fallback}. */
  public String option(String name, String fallback) {
    return options.getOrDefault(name, fallback);
  }

  /** A numeric option, or {@code fallback}; a usage error naming the option when it does not parse. */
  public double number(String name, double fallback) {
    String v = options.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new ConfigException("redteam: --" + name + " expects a number, got '" + v + "'");
    }
  }
}
