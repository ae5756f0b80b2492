package io.poisonguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Locale;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Evidence numbers read as the formatter writes them, on awkward and on seeded random values. */
class EvidenceTest {
  @Test
  void writesWhatTheFormatterWrites() {
    double[] awkward = {0, -0.0, -0.01, 0.05, 0.95, 0.994, 0.996, 41.25, -41.2, 1e11, -7.999, 9.9999, Double.NaN,
        Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e13, 123456.789};
    int mismatches = 0;
    for (double v : withRandom(awkward, 11, -2, 4)) {
      for (int decimals = 0; decimals <= 3; decimals++) {
        mismatches += String.format(Locale.ROOT, "%." + decimals + "f", v).equals(Evidence.fixed(v, decimals)) ? 0 : 1;
        mismatches += String.format(Locale.ROOT, "%+." + decimals + "f", v).equals(Evidence.signed(v, decimals))
            ? 0 : 1;
      }
    }
    assertEquals(0, mismatches);
  }

  @Test
  void writesSignificantDigitsAsTheFormatterDoes() {
    double[] awkward = {0, -0.0, 1e-4, 9.99999e-5, 0.000099999996, 9.9999996, 999999.4, 999999.6, -123456.5, 1e6,
        1e-7, 42, Double.NaN, Double.NEGATIVE_INFINITY, 3.0e15};
    int mismatches = 0;
    for (double v : withRandom(awkward, 13, -7, 7)) {
      for (int digits = 1; digits <= 7; digits++) {
        String expected = String.format(Locale.ROOT, "%." + digits + "g", v);
        mismatches += expected.equals(Evidence.significant(v, digits)) ? 0 : 1;
      }
    }
    assertEquals(0, mismatches);
  }

  /** {@code awkward} followed by 2,000 seeded Gaussian values scaled by 10^e, e uniform in [lowest, highest]. */
  private static double[] withRandom(double[] awkward, long seed, int lowest, int highest) {
    Random random = new Random(seed);
    double[] values = new double[awkward.length + 2000];
    System.arraycopy(awkward, 0, values, 0, awkward.length);
    for (int i = awkward.length; i < values.length; i++) {
      values[i] = random.nextGaussian() * Math.pow(10, lowest + random.nextInt(highest - lowest + 1));
    }
    return values;
  }
}
