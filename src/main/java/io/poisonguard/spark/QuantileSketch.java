package io.poisonguard.spark;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A mergeable approximate-quantile summary of doubles with the shape of a KLL sketch (levels of compactors whose
 * capacities shrink by 2/3 below the top one), but deterministic: a compaction keeps the odd or the even items of
 * its sorted level, alternating at each level, where KLL tosses a coin. The same values added and merged in the same
 * order therefore always give the same quantiles, which KLL's library implementation (one process-wide random
 * source) cannot promise, and without which the same batch could get different verdicts on a rerun. Merge
 * partition results in a fixed order ({@link OrderedAggregate}) to keep that property across tasks.
 *
 * <p>Until a level fills (k values) it is exact. Beyond, each compaction moves ranks by at most the weight of an
 * item of its level; alternating offsets make those moves cancel rather than pile up, and the measured rank error
 * stays below 2/k (0.09% at k = 2000 over a shuffled million values; {@code QuantileSketchTest}). The smallest
 * and largest value are kept exactly.
 * Memory: about 3·k values once more than k were added.
 */
public final class QuantileSketch implements Serializable {
  /** Default accuracy parameter: rank error under 0.1%, about 48 KiB once full. */
  public static final int K = 2000;
  private static final long serialVersionUID = 1L;
  private static final int MIN_CAPACITY = 8;
  private static final double SHRINK = 2.0 / 3.0;

  private final int k;
  /** levels[h] holds items of weight 2^h; only its first sizes[h] entries are used. */
  private double[][] levels = {new double[16]};
  private int[] sizes = new int[1];
  /** Per level, compactions so far: their parity picks the kept offset. */
  private long[] compactions = new long[1];
  /**
   * Levels reached by compaction (or in a merged sketch, by its): capacities shrink below the top one of these.
   * Levels above hold only values placed there by weight ({@link #update(double, long)}), at the top capacity: had
   * one heavy value raised the height, every level below would have shrunk, and a weight of 3 million beside a
   * million single values gave a rank error of 11.7/k to 19.2/k where 2/k holds without it.
   */
  private int height = 1;
  /**
   * Capacity of each level below {@link #height} ({@link #capacity}), rebuilt when the height changes: computed
   * afresh for every level on every update, its power was a quarter of the sketches' time in a profile of the
   * guard on a 1M-row batch (95 of 373 samples).
   */
  private transient int[] capacities;
  private long count;
  private double min = Double.POSITIVE_INFINITY;
  private double max = Double.NEGATIVE_INFINITY;

  /** A sketch with the default accuracy, {@link #K}. */
  public QuantileSketch() {
    this(K);
  }

  /** A sketch whose top level holds {@code k} values: rank error falls about as 1/k, memory grows as 3·k. */
  public QuantileSketch(int k) {
    if (k < MIN_CAPACITY) {
      throw new IllegalArgumentException("k must be at least " + MIN_CAPACITY + ", got " + k);
    }
    this.k = k;
  }

  /** Adds one value; NaN is ignored. */
  public void update(double value) {
    if (Double.isNaN(value)) {
      return;
    }
    count++;
    min = Math.min(min, value);
    max = Math.max(max, value);
    append(0, value);
    // only the bottom level grew, so only it can be over capacity: checking every level on every value was a tenth
    // of the profile pass's samples (1M rows, 32 columns)
    if (sizes[0] >= capacity(0)) {
      compress();
    }
  }

  /**
   * Adds {@code value} with weight {@code weight} (it counts as that many values) in one step: the weight's binary
   * digits place it on the levels whose items weigh those powers of two, so it enters exactly, and the rank error
   * stays that of the values added one by one. For a distribution given as (value, rows) pairs, such as scores
   * counted per group rather than read row by row. NaN and a weight below 1 add nothing.
   */
  public void update(double value, long weight) {
    if (Double.isNaN(value) || weight < 1) {
      return;
    }
    count += weight;
    min = Math.min(min, value);
    max = Math.max(max, value);
    int level = 0;
    for (long rest = weight; rest != 0; rest >>>= 1, level++) {
      if ((rest & 1) != 0) {
        append(level, value);
      }
    }
    compress();
  }

  /** Merges {@code other} (same or any k) into this sketch and returns this one. */
  public QuantileSketch merge(QuantileSketch other) {
    count += other.count;
    min = Math.min(min, other.min);
    max = Math.max(max, other.max);
    height = Math.max(height, other.height);
    for (int h = 0; h < other.sizes.length; h++) {
      for (int i = 0; i < other.sizes[h]; i++) {
        append(h, other.levels[h][i]);
      }
    }
    compress();
    return this;
  }

  /** Values added so far (NaN excluded). */
  public long count() {
    return count;
  }

  public boolean isEmpty() {
    return count == 0;
  }

  /**
   * Approximate quantiles at {@code probabilities}: for each p the smallest retained value whose weighted rank
   * (values at or below it) reaches p·count; p = 0 gives the exact minimum and p = 1 the exact maximum. Null when
   * nothing was added.
   */
  public double[] quantiles(double[] probabilities) {
    Sorted sorted = sorted();
    return sorted == null ? null : sorted.quantiles(probabilities);
  }

  /**
   * The retained values in ascending order with their weights, for callers that ask several questions of one sketch
   * (quantiles, then distances from one of them) and would otherwise sort it for each. Null when nothing was added.
   */
  public Sorted sorted() {
    if (count == 0) {
      return null;
    }
    int retained = Arrays.stream(sizes).sum();
    double[] values = new double[retained];
    long[] weights = new long[retained];
    // each level sorted on its own, then merged: levels are few, a level's items all weigh the same
    double[][] byLevel = new double[sizes.length][];
    int[] next = new int[sizes.length];
    for (int h = 0; h < sizes.length; h++) {
      byLevel[h] = Arrays.copyOf(levels[h], sizes[h]);
      Arrays.sort(byLevel[h]);
    }
    for (int n = 0; n < retained; n++) {
      int lowest = -1;
      for (int h = 0; h < byLevel.length; h++) {
        if (next[h] < byLevel[h].length && (lowest < 0 || byLevel[h][next[h]] < byLevel[lowest][next[lowest]])) {
          lowest = h;
        }
      }
      values[n] = byLevel[lowest][next[lowest]++];
      weights[n] = 1L << lowest;
    }
    return new Sorted(values, weights, count, min, max);
  }

  /** A sketch's retained values in ascending order, each with its weight ({@link #sorted}). */
  public static final class Sorted {
    private final double[] values;
    private final long[] weights;
    private final long count;
    private final double min;
    private final double max;

    private Sorted(double[] values, long[] weights, long count, double min, double max) {
      this.values = values;
      this.weights = weights;
      this.count = count;
      this.min = min;
      this.max = max;
    }

    /** As {@link QuantileSketch#quantiles}. */
    public double[] quantiles(double[] probabilities) {
      double[] out = new double[probabilities.length];
      for (int j = 0; j < probabilities.length; j++) {
        double p = probabilities[j];
        if (p <= 0) {
          out[j] = min;
        } else if (p >= 1) {
          out[j] = max;
        } else {
          double target = p * count;
          long cumulative = 0;
          double q = max;
          for (int i = 0; i < values.length; i++) {
            cumulative += weights[i];
            if (cumulative >= target) {
              q = values[i];
              break;
            }
          }
          out[j] = q;
        }
      }
      return out;
    }

    /**
     * Approximate quantiles of the distances |x − centre| of the added values x: for each p the smallest retained
     * value's distance whose weighted rank among the distances reaches p·count; p = 1 gives the exact largest
     * distance. The ranks are the sketch's, so they err by at most twice its rank error (values on both sides of
     * the centre). Read outward from the centre, both sides in step, without sorting again.
     */
    public double[] distanceQuantiles(double centre, double[] probabilities) {
      double[] out = new double[probabilities.length];
      for (int j = 0; j < probabilities.length; j++) {
        double p = probabilities[j];
        if (p >= 1) {
          out[j] = Math.max(Math.abs(max - centre), Math.abs(min - centre));
          continue;
        }
        double target = Math.max(p, 0) * count;
        int right = SortedSearch.firstAtLeast(values, centre);
        int left = right - 1;
        long cumulative = 0;
        double q = Math.max(Math.abs(max - centre), Math.abs(min - centre));
        while (left >= 0 || right < values.length) {
          boolean takeLeft = right >= values.length
              || left >= 0 && centre - values[left] <= values[right] - centre;
          int at = takeLeft ? left-- : right++;
          cumulative += weights[at];
          if (cumulative >= target) {
            q = Math.abs(values[at] - centre);
            break;
          }
        }
        out[j] = q;
      }
      return out;
    }

    /** Approximate mean of |x − centre| over the added values x: the retained values' weighted mean distance. */
    public double meanDistance(double centre) {
      double sum = 0;
      for (int i = 0; i < values.length; i++) {
        sum += weights[i] * Math.abs(values[i] - centre);
      }
      return sum / count;
    }
  }

  /**
   * Approximate share of the added values at or below each of {@code edges} (the weighted rank, inclusive, over the
   * count): the inverse of {@link #quantiles}, with the same rank error. Exact while nothing has been compacted.
   * Null when nothing was added.
   */
  public double[] ranks(double[] edges) {
    if (count == 0) {
      return null;
    }
    double[] out = new double[edges.length];
    for (int h = 0; h < sizes.length; h++) {
      long weight = 1L << h;
      for (int i = 0; i < sizes[h]; i++) {
        double v = levels[h][i];
        for (int e = 0; e < edges.length; e++) {
          if (v <= edges[e]) {
            out[e] += weight;
          }
        }
      }
    }
    for (int e = 0; e < edges.length; e++) {
      out[e] /= count;
    }
    return out;
  }

  private void append(int level, double value) {
    if (level >= sizes.length) {
      int height = sizes.length;
      levels = Arrays.copyOf(levels, level + 1);
      for (int h = height; h <= level; h++) {
        levels[h] = new double[16];
      }
      sizes = Arrays.copyOf(sizes, level + 1);
      compactions = Arrays.copyOf(compactions, level + 1);
    }
    if (sizes[level] == levels[level].length) {
      levels[level] = Arrays.copyOf(levels[level], levels[level].length * 2);
    }
    levels[level][sizes[level]++] = value;
  }

  /** Capacity of {@code level}: k at the top of the {@link #height} and above, 2/3 of that per level below. */
  private int capacity(int level) {
    if (level >= height) {
      return k;
    }
    if (capacities == null || capacities.length != height) {
      capacities = new int[height];
      for (int h = 0; h < height; h++) {
        capacities[h] = Math.max(MIN_CAPACITY, (int) Math.ceil(k * Math.pow(SHRINK, height - 1 - h)));
      }
    }
    return capacities[level];
  }

  /** Compacts the lowest over-full level until none is over capacity. */
  private void compress() {
    boolean compacted = true;
    while (compacted) {
      compacted = false;
      for (int h = 0; h < sizes.length; h++) {
        if (sizes[h] >= capacity(h)) {
          compact(h);
          compacted = true;
          break;
        }
      }
    }
  }

  /**
   * Sorts level {@code h} and moves every other item, with doubled weight, to the level above; with an odd
   * number of items the largest stays behind, so the weight of the level is preserved exactly.
   */
  private void compact(int h) {
    double[] items = levels[h];
    int size = sizes[h];
    Arrays.sort(items, 0, size);
    int paired = size - (size % 2);
    int offset = (int) (compactions[h]++ & 1L);
    for (int i = offset; i < paired; i += 2) {
      append(h + 1, items[i]);
    }
    height = Math.max(height, h + 2);
    items = levels[h];
    double leftover = items[size - 1];
    sizes[h] = 0;
    if (paired < size) {
      items[sizes[h]++] = leftover;
    }
  }
}
