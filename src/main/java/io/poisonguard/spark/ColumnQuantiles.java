package io.poisonguard.spark;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Approximate quantiles of several numeric columns from one pass of {@link QuantileSketch}es, merged in partition
 * order ({@link OrderedAggregate}) so that the same data give the same quantiles; a drop-in for {@code stat().approxQuantile} with the same conventions (null and NaN are skipped; a column without
 * a value gets an empty array).
 *
 * <p>Why not {@code approxQuantile}: its Greenwald–Khanna summaries are slow to update at fine accuracy: over the
 * eight detector scores of a 1M-row batch at relative error 1e-4 it took 21.9 s.
 */
public final class ColumnQuantiles {
  /** Partial results merged in one place: each holds a sketch per column, up to a few MiB for fine ones. */
  static final int FAN_IN = 16;

  private ColumnQuantiles() {}

  /**
   * Quantiles of each column at {@code probabilities}.
   *
   * @param data rows (cache it if it is expensive)
   * @param columns numeric columns, cast to double
   * @param k sketch accuracy ({@link QuantileSketch#QuantileSketch(int)})
   * @return per column, its quantiles, or an empty array when it has no value
   */
  public static double[][] of(Dataset<?> data, List<Column> columns, double[] probabilities, int k) {
    QuantileSketch[] sketches = sketch(data, columns, k);
    double[][] out = new double[sketches.length][];
    for (int c = 0; c < sketches.length; c++) {
      double[] q = sketches[c].quantiles(probabilities);
      out[c] = q == null ? new double[0] : q;
    }
    return out;
  }

  /** One sketch per column, for callers that also need the count of values. */
  public static QuantileSketch[] sketch(Dataset<?> data, List<Column> columns, int k) {
    return sketch(data, columns, null, k);
  }

  /**
   * One sketch per column, each row counting {@code weight} times ({@link QuantileSketch#update(double, long)}):
   * for data given as distinct values with their number of rows. A null weight column counts every row once; a
   * null weight counts it not at all.
   */
  public static QuantileSketch[] sketch(Dataset<?> data, List<Column> columns, Column weight, int k) {
    Column[] selected = new Column[columns.size() + (weight == null ? 0 : 1)];
    for (int c = 0; c < columns.size(); c++) {
      selected[c] = columns.get(c).cast("double");
    }
    if (weight != null) {
      selected[columns.size()] = weight.cast("long");
    }
    return OrderedAggregate.of(data.select(selected).javaRDD(), new Sketches(columns.size(), k, weight != null),
        Sketches::add, Sketches::merge, FAN_IN).columns;
  }

  /** The accumulator: one sketch per column. */
  private static final class Sketches implements Serializable {
    private static final long serialVersionUID = 1L;
    private final QuantileSketch[] columns;
    /** Whether each row's last field is its weight. */
    private final boolean weighted;

    Sketches(int width, int k, boolean weighted) {
      columns = new QuantileSketch[width];
      for (int c = 0; c < width; c++) {
        columns[c] = new QuantileSketch(k);
      }
      this.weighted = weighted;
    }

    Sketches add(Row row) {
      if (weighted && row.isNullAt(columns.length)) {
        return this;
      }
      long weight = weighted ? row.getLong(columns.length) : 1;
      for (int c = 0; c < columns.length; c++) {
        if (!row.isNullAt(c)) {
          columns[c].update(row.getDouble(c), weight);
        }
      }
      return this;
    }

    Sketches merge(Sketches other) {
      for (int c = 0; c < columns.length; c++) {
        columns[c].merge(other.columns[c]);
      }
      return this;
    }
  }
}
