package io.poisonguard.profile;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Bin counts as aggregate expressions, so the histograms of every column come out of one pass over a batch.
 * Numeric bins are {@code (-inf, e1], (e1, e2], ..., (ek, +inf)} plus one bin for missing values (null or NaN);
 * categorical bins are the listed categories, then "any other", then missing.
 */
final class Histograms {
  private Histograms() {}

  /** Expressions counting a numeric column's rows per bin: {@code edges.size() + 2} of them. */
  static List<Column> numericCounts(String column, List<Double> edges) {
    Column c = functions.col(column).cast("double");
    Column missing = c.isNull().or(functions.isnan(c));
    List<Column> counts = new ArrayList<>();
    Double lower = null;
    for (int i = 0; i <= edges.size(); i++) {
      Column in = functions.not(missing);
      if (lower != null) {
        in = in.and(c.gt(lower));
      }
      if (i < edges.size()) {
        in = in.and(c.leq(edges.get(i)));
        lower = edges.get(i);
      }
      counts.add(countIf(in));
    }
    counts.add(countIf(missing));
    return counts;
  }

  /** Expressions counting a categorical column's rows per listed category, then others, then missing. */
  static List<Column> categoryCounts(String column, List<String> categories) {
    Column c = functions.col(column);
    List<Column> counts = new ArrayList<>();
    for (String category : categories) {
      counts.add(countIf(c.equalTo(category)));
    }
    Column listed = categories.isEmpty() ? functions.lit(false) : c.isin(categories.toArray());
    counts.add(countIf(c.isNotNull().and(functions.not(listed))));
    counts.add(countIf(c.isNull()));
    return counts;
  }

  /** Reads {@code n} counts starting at {@code offset} of an aggregate row and turns them into shares. */
  static List<Double> shares(Row row, int offset, int n) {
    long total = 0;
    for (int i = 0; i < n; i++) {
      total += row.getLong(offset + i);
    }
    List<Double> shares = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      shares.add(total == 0 ? 0.0 : row.getLong(offset + i) / (double) total);
    }
    return shares;
  }

  /** Categories listed in a category-share map, in a fixed order. */
  static List<String> categories(Map<String, Double> shares) {
    return shares.keySet().stream().sorted().toList();
  }

  private static Column countIf(Column condition) {
    return functions.sum(functions.when(condition, 1L).otherwise(0L));
  }
}
