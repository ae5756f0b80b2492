package io.poisonguard.detect;

import java.util.Locale;

/**
 * Numbers in evidence texts, written as {@code String.format(Locale.ROOT, "%.Nf")} or {@code "%.Ng"} writes them
 * (including "-0.0"), without a {@link java.util.Formatter}: every scored row gets one evidence text per detector,
 * and at a million rows the formatter's parsing of its pattern was a twentieth of the whole guard's time.
 */
final class Evidence {
  private static final long[] POWERS = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000,
      1_000_000_000, 10_000_000_000L};
  /** Below this {@code %g} writes a number in scientific notation. */
  private static final double SMALLEST_PLAIN = 1e-4;
  /** Above this a scaled value could overflow a long; the formatter writes those (never seen in practice). */
  private static final double LARGEST_FAST = 1e12;

  private Evidence() {}

  /** {@code value} with {@code decimals} digits after the point: 0 to 6, or up to 10 below 10⁸ in magnitude. */
  static String fixed(double value, int decimals) {
    return append(new StringBuilder(), value, decimals, false).toString();
  }

  /** As {@link #fixed}, with a leading '+' on non-negative values ({@code "%+.Nf"}). */
  static String signed(double value, int decimals) {
    return append(new StringBuilder(), value, decimals, true).toString();
  }

  /**
   * {@code value} with {@code digits} (1 to 7) significant digits ({@code "%.Ng"}): plain decimals from 10⁻⁴ up to
   * 10^digits, the formatter's scientific notation outside that range.
   */
  static String significant(double value, int digits) {
    double magnitude = Math.abs(value);
    if (Double.isFinite(value) && magnitude >= SMALLEST_PLAIN) {
      int decimals = digits - 1 - (int) Math.floor(Math.log10(magnitude));
      if (decimals >= 0 && Math.round(magnitude * POWERS[decimals]) >= POWERS[digits]) {
        decimals--; // rounding carries into one more integer digit, as 9.9999996 becomes 10.0000
      }
      if (decimals >= 0) {
        return fixed(value, decimals);
      }
    }
    return String.format(Locale.ROOT, "%." + digits + "g", value);
  }

  private static StringBuilder append(StringBuilder out, double value, int decimals, boolean plus) {
    if (!Double.isFinite(value) || Math.abs(value) >= LARGEST_FAST) {
      return out.append(String.format(Locale.ROOT, plus ? "%+." + decimals + "f" : "%." + decimals + "f", value));
    }
    boolean negative = Double.doubleToRawLongBits(value) < 0;
    long scale = POWERS[decimals];
    long scaled = Math.round(Math.abs(value) * scale);
    if (negative) {
      out.append('-');
    } else if (plus) {
      out.append('+');
    }
    out.append(scaled / scale);
    if (decimals > 0) {
      String fraction = Long.toString(scaled % scale);
      out.append('.');
      for (int i = fraction.length(); i < decimals; i++) {
        out.append('0');
      }
      out.append(fraction);
    }
    return out;
  }
}
