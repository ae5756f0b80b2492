package io.poisonguard.detect;

import io.poisonguard.spark.OrderedAggregate;
import io.poisonguard.spark.QuantileSketch;
import java.io.Serializable;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Robust location and scale per group (class) and pooled, per feature, computed distributively in one pass over
 * the rows: it sketches every (group, feature)'s values, and the driver reads from each sketch the quartiles, the
 * median, and the absolute deviations from that median (their median and mean, and an optional upper quantile),
 * walking the sketch's sorted values outward from the median ({@link QuantileSketch.Sorted#distanceQuantiles}).
 * Only sketches, (groups + 1) × features of them, reach the driver. A second pass that sketched the deviations
 * themselves cost 0.3 and 0.7 s of a 1M-row guard (preparation and robust_z fits, event log). Read off the value
 * sketch, a deviation's rank errs by at most twice the sketch's rank error, 2 × 2/{@value #SKETCH_K}; below
 * {@value #SKETCH_K} values a sketch is exact, and so are these statistics.
 *
 * <p>Scale chain, because spambase-like data is zero-inflated and its MAD is often 0: 1.4826·MAD, else
 * IQR/1.349, else 1.2533·mean absolute deviation from the median, else 1. Each factor makes the estimate
 * consistent with the standard deviation under a normal distribution.
 *
 * <p>Why sketches in the JVM rather than {@code percentile_approx} over a long (group, feature, value) view:
 * that view multiplies the rows by features × 2 and feeds them through an interpreted aggregate, which cost
 * about 19 s of a 1M-row run on a 100k-row fit sample; the quantiles move by at most the sketch's rank error
 * ({@link #SKETCH_K}), and merged in partition order they are the same on every run.
 */
final class RobustStats {
  /** Group key of the statistics over all rows (class indices are never negative). */
  static final double POOLED = -1.0;
  private static final double[] QUARTILES = {0.25, 0.5, 0.75};
  /**
   * Sketch accuracy: rank error under 1e-4, as fine as the {@code percentile_approx} accuracy this replaced. The
   * tail statistic sits at an upper quantile of heavy-tailed deviations, where a coarser sketch (k = 2000, rank
   * error 0.1%) moved the 0.99 quantile of some spambase-shaped features by up to 30% (the default level is 0.999),
   * and robust_z's flags with it; at this k they stay within 3% of the old figures. On
   * a fit sample this fine a sketch is close to the values themselves: memory is O(fit rows × features).
   */
  private static final int SKETCH_K = 20_000;
  /** Partial results merged in one place: each holds (classes + 1) × features sketches. */
  private static final int SKETCH_FAN_IN = 8;

  private RobustStats() {}

  /**
   * Statistics of one group.
   *
   * @param count rows with at least one observed value
   * @param median per-feature median (0 when a feature was never observed)
   * @param scale per-feature robust scale, always &gt; 0
   * @param tail per-feature upper quantile of |x − median| / scale at the requested level, at least 1
   *     (1 when no level was requested)
   */
  record Group(long count, double[] median, double[] scale, double[] tail) {}

  /**
   * Computes the statistics.
   *
   * @param data input rows
   * @param values array&lt;double&gt; column with {@code dim} entries; null and NaN entries are skipped
   * @param group double class column, or null for pooled statistics only; null/NaN classes count only in pooled
   * @param tailLevel quantile level of the tail statistic, or 0 for none
   * @return per group key (class index or {@link #POOLED}), its statistics
   */
  static Map<Double, Group> compute(Dataset<?> data, Column values, Column group, int dim, double tailLevel) {
    Dataset<Row> rows = data.select(group == null ? functions.lit(null).cast("double") : group.cast("double"),
        values);
    double[] deviationLevels = {0.5, tailLevel > 0 ? tailLevel : 0.5};
    Map<Double, Group> out = new HashMap<>();
    sketch(rows, dim).forEach((g, s) -> {
      double[] median = new double[dim];
      double[] scale = new double[dim];
      double[] tail = new double[dim];
      for (int i = 0; i < dim; i++) {
        QuantileSketch.Sorted sorted = s.sketches[i].sorted();
        if (sorted == null) { // never observed
          scale[i] = scale(0, 0, 0);
          tail[i] = 1.0;
          continue;
        }
        double[] quartiles = sorted.quantiles(QUARTILES);
        median[i] = quartiles[1];
        double[] deviation = sorted.distanceQuantiles(median[i], deviationLevels);
        scale[i] = scale(deviation[0], quartiles[2] - quartiles[0], sorted.meanDistance(median[i]));
        tail[i] = tailLevel > 0 ? Math.max(1.0, deviation[1] / scale[i]) : 1.0;
      }
      out.put(g, new Group(s.observedRows(), median, scale, tail));
    });
    return out;
  }

  /** The documented fallback chain; never returns 0 so a division is always defined. */
  static double scale(double mad, double iqr, double meanAbsDev) {
    if (mad > 0) {
      return 1.4826 * mad;
    }
    if (iqr > 0) {
      return iqr / 1.349;
    }
    if (meanAbsDev > 0) {
      return 1.2533 * meanAbsDev;
    }
    return 1.0;
  }

  /** The pass: per group key, the sketches of each feature's values. */
  private static Map<Double, Sketches> sketch(Dataset<Row> rows, int dim) {
    return OrderedAggregate.of(rows.javaRDD(), new GroupedSketches(dim), GroupedSketches::add,
        GroupedSketches::merge, SKETCH_FAN_IN).byGroup;
  }

  /** Sketches of one group's features. */
  private static final class Sketches implements Serializable {
    private static final long serialVersionUID = 1L;
    private final QuantileSketch[] sketches;

    Sketches(int dim) {
      sketches = new QuantileSketch[dim];
      for (int i = 0; i < dim; i++) {
        sketches[i] = new QuantileSketch(SKETCH_K);
      }
    }

    void add(int i, double value) {
      sketches[i].update(value);
    }

    Sketches merge(Sketches other) {
      for (int i = 0; i < sketches.length; i++) {
        sketches[i].merge(other.sketches[i]);
      }
      return this;
    }

    /** Rows of the best-observed feature: the group's rows with at least one value, when none is missing. */
    long observedRows() {
      return Arrays.stream(sketches).mapToLong(QuantileSketch::count).max().orElse(0);
    }
  }

  /** The aggregation's accumulator: per group key, its {@link Sketches}. */
  private static final class GroupedSketches implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int dim;
    private final Map<Double, Sketches> byGroup = new HashMap<>();

    GroupedSketches(int dim) {
      this.dim = dim;
    }

    /** Row: (class or null, array of {@code dim} values or null). */
    GroupedSketches add(Row row) {
      if (row.isNullAt(1)) {
        return this;
      }
      List<Double> values = row.getList(1);
      boolean classed = !row.isNullAt(0) && !Double.isNaN(row.getDouble(0));
      addTo(POOLED, values);
      if (classed) {
        addTo(row.getDouble(0), values);
      }
      return this;
    }

    private void addTo(double key, List<Double> values) {
      Sketches sketches = null;
      for (int i = 0; i < dim; i++) {
        Double v = values.get(i);
        if (v == null || v.isNaN()) {
          continue;
        }
        if (sketches == null) {
          sketches = byGroup.computeIfAbsent(key, k -> new Sketches(dim));
        }
        sketches.add(i, v);
      }
    }

    GroupedSketches merge(GroupedSketches other) {
      other.byGroup.forEach((g, s) -> byGroup.merge(g, s, Sketches::merge));
      return this;
    }
  }
}
