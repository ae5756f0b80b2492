package io.poisonguard.config;

import java.util.Locale;

/**
 * How far the ensemble's flag may reach beyond its false-positive target: not at all (the default), to a fixed share
 * of the batch's rows, or to the share of poisoned rows the batch itself is estimated to hold. The target
 * false-positive rate keeps the flag from calling many clean rows suspect; a share trades clean rows for recall, for
 * a data team that would rather drop a few percent of a batch than train on its poison.
 *
 * @param mode off, a fixed share, or estimated from the batch
 * @param share the fixed share (0 unless {@link Mode#FIXED})
 */
public record Contamination(Mode mode, double share) {
  /** Largest share a pipeline may set: a batch more than half poisoned is no batch to sanitize row by row. */
  public static final double MAX_SHARE = 0.5;
  /** No contamination setting: the flag is the target false-positive rate's alone. */
  public static final Contamination OFF = new Contamination(Mode.OFF, 0);
  /** The share estimated from each batch. */
  public static final Contamination ESTIMATED = new Contamination(Mode.ESTIMATED, 0);

  /** What the setting is. */
  public enum Mode {
    /** The flag follows the target false-positive rate only. */
    OFF,
    /** The flag takes at least a fixed share of the batch's rows, the most suspect first. */
    FIXED,
    /** The flag takes at least the share of poisoned rows the batch is estimated to hold. */
    ESTIMATED
  }

  public Contamination {
    if (mode == Mode.FIXED && !(share > 0 && share <= MAX_SHARE)) {
      throw new ConfigException("detect.contamination must be auto or a share of rows above 0 and at most "
          + MAX_SHARE + ", got " + share);
    }
  }

  /**
   * The setting as a pipeline file gives it: absent (null), {@code off} (which YAML may read as false), {@code auto},
   * or a number.
   *
   * @throws ConfigException for anything else, naming the key and what it accepts
   */
  public static Contamination parse(Object value) {
    // YAML 1.1 reads an unquoted off as false
    if (value == null || Boolean.FALSE.equals(value)) {
      return OFF;
    }
    if (value instanceof Number number) {
      return new Contamination(Mode.FIXED, number.doubleValue());
    }
    String text = value.toString().trim().toLowerCase(Locale.ROOT);
    if (text.equals("auto")) {
      return ESTIMATED;
    }
    if (text.equals("off") || text.equals("none") || text.equals("false")) {
      return OFF;
    }
    try {
      return new Contamination(Mode.FIXED, Double.parseDouble(text));
    } catch (NumberFormatException e) {
      throw new ConfigException("detect.contamination must be auto, off or a share of rows such as 0.05, got '"
          + value + "'");
    }
  }

  /** The setting as a pipeline file would give it: {@code off}, {@code auto} or the share. */
  public String describe() {
    return switch (mode) {
      case OFF -> "off";
      case ESTIMATED -> "auto";
      case FIXED -> String.valueOf(share);
    };
  }
}
