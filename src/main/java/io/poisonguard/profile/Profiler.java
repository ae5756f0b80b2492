package io.poisonguard.profile;

import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.OrderedAggregate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Computes a batch's {@link Profile}. Every column's statistics and sketches come from one pass
 * ({@link ColumnSummaries}), and so do the histograms of numeric columns (on the deciles that pass found, their
 * shares read off the same quantile sketches); the most frequent categories need a second pass, and only when
 * there are categorical columns. The first pass counts the labels too. Only aggregates reach the driver.
 */
public final class Profiler {
  /** Quantiles kept in every profile; the deciles double as the histogram edges drift is measured on. */
  public static final double[] PROBABILITIES = {0.01, 0.05, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8,
      0.9, 0.95, 0.99};
  private static final double[] DECILES = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  /** Categories kept per categorical column; the rest share one "other" bin. */
  private static final int TOP_CATEGORIES = 20;
  /** Summaries merged in one place: each holds a quantile sketch per numeric column, tens of KiB apiece. */
  private static final int SUMMARY_FAN_IN = 16;

  /** Profiles {@code batch}: its label column and features as {@code schema} says. */
  public Profile compute(Dataset<Row> batch, FeatureSchema schema, String runId) {
    List<String> numeric = schema.numericFeatures();
    List<String> categorical = schema.categoricalFeatures();
    ColumnSummaries stats = summarize(batch, numeric, categorical, schema.labelColumn());
    long rows = stats.rows();

    Map<String, Map<String, Double>> topCategories = topCategories(batch, categorical, rows);
    List<double[]> quantiles = new ArrayList<>();
    List<List<Double>> edges = new ArrayList<>();
    List<List<Double>> binShares = new ArrayList<>();
    for (int i = 0; i < numeric.size(); i++) {
      double[] q = stats.quantiles(i, PROBABILITIES);
      quantiles.add(q);
      List<Double> e = deduplicatedDeciles(q);
      edges.add(e);
      binShares.add(Arrays.stream(stats.binShares(i, e.stream().mapToDouble(Double::doubleValue).toArray())).boxed()
          .toList());
    }

    List<ColumnProfile> columns = new ArrayList<>();
    for (int i = 0; i < numeric.size(); i++) {
      Map<Double, Double> byProbability = new TreeMap<>();
      if (quantiles.get(i) != null) {
        for (int p = 0; p < PROBABILITIES.length; p++) {
          byProbability.put(PROBABILITIES[p], quantiles.get(i)[p]);
        }
      }
      long count = stats.count(i);
      columns.add(new ColumnProfile(numeric.get(i), true, count, rows - count, stats.nan(i), stats.infinite(i),
          stats.min(i), stats.max(i), stats.mean(i), stats.stddev(i), byProbability, stats.distinct(i), edges.get(i),
          binShares.get(i), Map.of()));
    }
    for (int i = 0; i < categorical.size(); i++) {
      int j = numeric.size() + i;
      long count = stats.count(j);
      columns.add(new ColumnProfile(categorical.get(i), false, count, rows - count, 0, 0, null, null, null, null,
          Map.of(), stats.distinct(j), List.of(), List.of(),
          topCategories.getOrDefault(categorical.get(i), Map.of())));
    }
    return new Profile(runId, rows, columns, stats.labelCounts());
  }

  /**
   * Every column's statistics and sketches from one pass, merged in partition order so a rerun gives the same
   * profile; what reaches the driver is at most a few summaries at a time.
   */
  private static ColumnSummaries summarize(Dataset<Row> batch, List<String> numeric, List<String> categorical,
      String label) {
    List<Column> columns = new ArrayList<>();
    // numeric features are doubles after ingest; the cast keeps the profiler usable on any numeric column
    numeric.forEach(name -> columns.add(Columns.col(name).cast("double")));
    categorical.forEach(name -> columns.add(Columns.col(name).cast("string")));
    columns.add(Columns.col(label).cast("string"));
    Dataset<Row> values = batch.select(columns.toArray(Column[]::new));
    return OrderedAggregate.of(values.javaRDD(), new ColumnSummaries(numeric.size(), categorical.size()),
        ColumnSummaries::add, ColumnSummaries::merge, SUMMARY_FAN_IN);
  }

  /** Decile edges without repeats: a zero-inflated feature has many equal deciles, which make one bin. */
  private static List<Double> deduplicatedDeciles(double[] quantiles) {
    TreeSet<Double> edges = new TreeSet<>();
    if (quantiles != null) {
      for (double d : DECILES) {
        for (int p = 0; p < PROBABILITIES.length; p++) {
          if (PROBABILITIES[p] == d) {
            edges.add(quantiles[p]);
          }
        }
      }
    }
    return new ArrayList<>(edges);
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
