package io.poisonguard.detect;

import java.util.Locale;

/**
 * Numbers in evidence texts, written as {@code String.format(Locale.ROOT, "%.Nf")} writes them (including "-0.0"),
 * without a {@link java.util.Formatter}: every scored row gets one evidence text per detector, and at a million
 * rows the formatter's parsing of its pattern was a twentieth of the whole guard's time.
 */
final class Evidence {
  private static final long[] POWERS = {1, 10, 100, 1_000, 10_000, 100_000, 1_000_000};
  /** Above this a scaled value could overflow a long; the formatter writes those (never seen in practice). */
  private static final double LARGEST_FAST = 1e12;

  private Evidence() {}

  /** {@code value} with {@code decimals} (0 to 6) digits after the point. */
  static String fixed(double value, int decimals) {
    return append(new StringBuilder(), value, decimals, false).toString();
  }

  /** As {@link #fixed}, with a leading '+' on non-negative values ({@code "%+.Nf"}). */
  static String signed(double value, int decimals) {
    return append(new StringBuilder(), value, decimals, true).toString();
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
