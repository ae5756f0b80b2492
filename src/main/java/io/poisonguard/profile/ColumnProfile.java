package io.poisonguard.profile;

import java.util.List;
import java.util.Map;

/**
 * Statistics of one column of a batch. Numeric figures (min, max, mean, stddev, quantiles) are over finite values
 * only; nulls, NaN and infinities are counted apart so a flood of them cannot hide in an average.
 *
 * @param name column name
 * @param numeric true for a numeric feature, false for a categorical one
 * @param count non-null values
 * @param nulls null values
 * @param nan NaN values (numeric only)
 * @param infinite positive or negative infinities (numeric only)
 * @param min smallest finite value, or null
 * @param max largest finite value, or null
 * @param mean mean of finite values, or null
 * @param stddev sample standard deviation of finite values, or null
 * @param quantiles approximate quantiles of finite values, by probability
 * @param distinct approximate number of distinct values
 * @param binEdges upper edges of the histogram bins (deduplicated deciles), numeric only; the last bin is open
 * @param binShares share of the batch in each bin, {@code binEdges.size() + 1} values, then the missing share
 * @param categoryShares share of the most frequent categories (categorical only)
 */
public record ColumnProfile(String name, boolean numeric, long count, long nulls, long nan, long infinite,
    Double min, Double max, Double mean, Double stddev, Map<Double, Double> quantiles, long distinct,
    List<Double> binEdges, List<Double> binShares, Map<String, Double> categoryShares) {

  public ColumnProfile {
    quantiles = Map.copyOf(quantiles);
    binEdges = List.copyOf(binEdges);
    binShares = List.copyOf(binShares);
    categoryShares = Map.copyOf(categoryShares);
  }
}
