package io.poisonguard.profile;

import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Histograms of many columns from one pass: each row's bin per column is one CASE expression, counted into
 * per-task arrays, so what crosses the network is columns × bins counts per partition. Numeric bins are {@code (-inf, e1], (e1, e2], ...,
 * (ek, +inf)} then missing (null or NaN); categorical bins are the listed categories, then any other, then
 * missing.
 */
final class Histograms {
  private final List<Column> binExpressions = new ArrayList<>();
  private final List<Integer> sizes = new ArrayList<>();

  /** Adds a numeric column binned on {@code edges}; returns its position. */
  int addNumeric(String column, List<Double> edges) {
    Column c = Columns.col(column).cast("double");
    Column bin = functions.when(c.isNull().or(functions.isnan(c)), edges.size() + 1);
    for (int i = 0; i < edges.size(); i++) {
      bin = bin.when(c.leq(edges.get(i)), i);
    }
    return add(bin.otherwise(edges.size()), edges.size() + 2);
  }

  /** Adds a categorical column with the listed categories; returns its position. */
  int addCategorical(String column, List<String> categories) {
    Column c = Columns.col(column).cast("string");
    Column bin = functions.when(c.isNull(), categories.size() + 1);
    for (int i = 0; i < categories.size(); i++) {
      bin = bin.when(c.equalTo(categories.get(i)), i);
    }
    return add(bin.otherwise(categories.size()), categories.size() + 2);
  }

  private int add(Column bin, int size) {
    binExpressions.add(bin);
    sizes.add(size);
    return sizes.size() - 1;
  }

  /** Shares per bin of every added column, by position, from one pass over {@code batch}. */
  List<List<Double>> shares(Dataset<Row> batch) {
    List<List<Double>> shares = new ArrayList<>();
    if (binExpressions.isEmpty()) {
      return shares;
    }
    long[][] counts = new long[sizes.size()][];
    for (int i = 0; i < sizes.size(); i++) {
      counts[i] = new long[sizes.get(i)];
    }
    // Each row's bins come from one compiled projection; the counting is a plain array increment per (row,
    // column) in each task, and only the columns × bins counts are merged (integers: any merge order is exact).
    Column[] bins = new Column[binExpressions.size()];
    for (int i = 0; i < bins.length; i++) {
      bins[i] = binExpressions.get(i).cast("int");
    }
    long[][] zero = counts;
    counts = batch.select(bins).javaRDD().treeAggregate(zero, (acc, r) -> {
      for (int i = 0; i < acc.length; i++) {
        acc[i][r.getInt(i)]++;
      }
      return acc;
    }, (a, b) -> {
      for (int i = 0; i < a.length; i++) {
        for (int j = 0; j < a[i].length; j++) {
          a[i][j] += b[i][j];
        }
      }
      return a;
    });
    for (long[] c : counts) {
      long total = java.util.Arrays.stream(c).sum();
      List<Double> s = new ArrayList<>();
      for (long v : c) {
        s.add(total == 0 ? 0.0 : v / (double) total);
      }
      shares.add(s);
    }
    return shares;
  }

  /** Categories listed in a category-share map, in a fixed order. */
  static List<String> categories(Map<String, Double> shares) {
    return shares.keySet().stream().sorted().toList();
  }
}
