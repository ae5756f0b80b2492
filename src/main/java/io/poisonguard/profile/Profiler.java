package io.poisonguard.profile;

import io.poisonguard.spark.Columns;
import io.poisonguard.ingest.FeatureSchema;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;

/**
 * Computes a batch's {@link Profile}. Every column's statistics come from one aggregation pass; histograms of
 * numeric columns (on the deciles that pass found) and the most frequent categories need a second; the label
 * distribution is a grouped count. Only aggregates reach the driver.
 */
public final class Profiler {
  /** Quantiles kept in every profile; the deciles double as the histogram edges drift is measured on. */
  public static final double[] PROBABILITIES = {0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8,
      0.9, 0.95, 0.99};
  private static final double[] DECILES = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  /** Accuracy of percentile_approx: relative rank error about 1/accuracy. */
  private static final int ACCURACY = 10_000;
  /** Categories kept per categorical column; the rest share one "other" bin. */
  private static final int TOP_CATEGORIES = 20;

  /** Profiles {@code batch}: its label column and features as {@code schema} says. */
  public Profile compute(Dataset<Row> batch, FeatureSchema schema, String runId) {
    List<String> numeric = schema.numericFeatures();
    List<String> categorical = schema.categoricalFeatures();
    List<Column> aggs = new ArrayList<>();
    java.util.Set<Integer> sketches = new java.util.HashSet<>();
    aggs.add(functions.count(functions.lit(1)));
    for (String name : numeric) {
      // numeric features are doubles after ingest; the cast keeps the profiler usable on any numeric column
      Column c = Columns.col(name).cast("double");
      Column finite = functions.when(functions.not(functions.isnan(c)).and(c.notEqual(Double.POSITIVE_INFINITY))
          .and(c.notEqual(Double.NEGATIVE_INFINITY)), c);
      aggs.add(functions.count(c));
      aggs.add(functions.sum(functions.when(functions.isnan(c), 1L).otherwise(0L)));
      aggs.add(functions.sum(functions.when(c.equalTo(Double.POSITIVE_INFINITY)
          .or(c.equalTo(Double.NEGATIVE_INFINITY)), 1L).otherwise(0L)));
      aggs.add(functions.min(finite));
      aggs.add(functions.max(finite));
      aggs.add(functions.avg(finite));
      aggs.add(functions.stddev_samp(finite));
      sketches.add(aggs.size());
      aggs.add(functions.percentile_approx(finite, functions.lit(PROBABILITIES), functions.lit(ACCURACY)));
      sketches.add(aggs.size());
      aggs.add(functions.approx_count_distinct(c));
    }
    for (String name : categorical) {
      aggs.add(functions.count(Columns.col(name)));
      sketches.add(aggs.size());
      aggs.add(functions.approx_count_distinct(Columns.col(name)));
    }
    Row stats = aggregate(batch, aggs, sketches);
    long rows = stats.getLong(0);

    Map<String, Map<String, Double>> topCategories = topCategories(batch, categorical, rows);
    List<List<Double>> edges = new ArrayList<>();
    Histograms histograms = new Histograms();
    for (int i = 0; i < numeric.size(); i++) {
      List<Double> e = deduplicatedDeciles(stats.isNullAt(1 + i * 9 + 7) ? List.of()
          : stats.getList(1 + i * 9 + 7));
      edges.add(e);
      histograms.addNumeric(numeric.get(i), e);
    }
    List<List<Double>> binShares = histograms.shares(batch);

    List<ColumnProfile> columns = new ArrayList<>();
    for (int i = 0; i < numeric.size(); i++) {
      int o = 1 + i * 9;
      long count = stats.getLong(o);
      long nan = stats.getLong(o + 1);
      Map<Double, Double> quantiles = new TreeMap<>();
      if (!stats.isNullAt(o + 7)) {
        List<Double> q = stats.getList(o + 7);
        for (int p = 0; p < PROBABILITIES.length; p++) {
          quantiles.put(PROBABILITIES[p], q.get(p));
        }
      }
      columns.add(new ColumnProfile(numeric.get(i), true, count, rows - count, nan, stats.getLong(o + 2),
          nullable(stats, o + 3), nullable(stats, o + 4), nullable(stats, o + 5), nullable(stats, o + 6), quantiles,
          stats.getLong(o + 8), edges.get(i), binShares.get(i), Map.of()));
    }
    int o = 1 + numeric.size() * 9;
    for (int i = 0; i < categorical.size(); i++) {
      long count = stats.getLong(o + 2 * i);
      columns.add(new ColumnProfile(categorical.get(i), false, count, rows - count, 0, 0, null, null, null, null,
          Map.of(), stats.getLong(o + 2 * i + 1), List.of(), List.of(),
          topCategories.getOrDefault(categorical.get(i), Map.of())));
    }
    return new Profile(runId, rows, columns, labelCounts(batch, schema.labelColumn()));
  }

  /**
   * The aggregates' values, in order, from two passes: the sketches (positions {@code sketches}: quantiles,
   * distinct counts) in one, every
   * other aggregate in the other. Spark compiles an aggregation to code only when all its functions are simple
   * sums and extremes; one sketch among them makes it interpret every function for every row, which at a million
   * rows cost more than both passes together.
   */
  private static Row aggregate(Dataset<Row> batch, List<Column> aggs, java.util.Set<Integer> sketches) {
    List<Integer> sketchAt = new ArrayList<>();
    List<Integer> simpleAt = new ArrayList<>();
    for (int i = 0; i < aggs.size(); i++) {
      (sketches.contains(i) ? sketchAt : simpleAt).add(i);
    }
    Object[] values = new Object[aggs.size()];
    for (List<Integer> part : List.of(simpleAt, sketchAt)) {
      if (part.isEmpty()) {
        continue;
      }
      Column[] columns = part.stream().map(aggs::get).toArray(Column[]::new);
      Row row = batch.agg(columns[0], java.util.Arrays.copyOfRange(columns, 1, columns.length)).head();
      for (int j = 0; j < part.size(); j++) {
        values[part.get(j)] = row.get(j);
      }
    }
    return RowFactory.create(values);
  }

  private static Double nullable(Row row, int i) {
    return row.isNullAt(i) ? null : row.getDouble(i);
  }

  /** Decile edges without repeats: a zero-inflated feature has many equal deciles, which make one bin. */
  private static List<Double> deduplicatedDeciles(List<Double> quantiles) {
    TreeSet<Double> edges = new TreeSet<>();
    if (!quantiles.isEmpty()) {
      for (double d : DECILES) {
        for (int p = 0; p < PROBABILITIES.length; p++) {
          if (PROBABILITIES[p] == d && quantiles.get(p) != null) {
            edges.add(quantiles.get(p));
          }
        }
      }
    }
    return new ArrayList<>(edges);
  }

  private static Map<String, Long> labelCounts(Dataset<Row> batch, String label) {
    // one row per class: the label distribution is small by construction
    Map<String, Long> counts = new TreeMap<>();
    for (Row r : batch.groupBy(Columns.col(label)).count().collectAsList()) {
      counts.put(r.isNullAt(0) ? "" : r.get(0).toString(), r.getLong(1));
    }
    return counts;
  }

  /** The most frequent categories of every categorical column with their shares, from one grouped pass. */
  private static Map<String, Map<String, Double>> topCategories(Dataset<Row> batch, List<String> categorical,
      long rows) {
    Map<String, Map<String, Double>> top = new LinkedHashMap<>();
    if (categorical.isEmpty()) {
      return top;
    }
    Column[] pairs = categorical.stream().map(c -> functions.struct(functions.lit(c).as("column"),
        Columns.col(c).cast("string").as("value"))).toArray(Column[]::new);
    var byCount = org.apache.spark.sql.expressions.Window.partitionBy("column")
        .orderBy(functions.col("count").desc(), functions.col("value"));
    // at most TOP_CATEGORIES rows per categorical column come back
    List<Row> rowsBack = batch.select(functions.explode(functions.array(pairs)).as("p"))
        .select("p.column", "p.value").filter(functions.col("value").isNotNull())
        .groupBy("column", "value").count()
        .withColumn("rank", functions.row_number().over(byCount))
        .filter(functions.col("rank").leq(TOP_CATEGORIES)).collectAsList();
    for (Row r : rowsBack) {
      top.computeIfAbsent(r.getString(0), k -> new TreeMap<>()).put(r.getString(1), r.getLong(2) / (double) rows);
    }
    return top;
  }
}
