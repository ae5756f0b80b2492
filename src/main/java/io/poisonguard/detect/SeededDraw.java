package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.lit;

import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;

/**
 * Rows a detector brings to the driver to fit on, chosen and ordered by a seeded hash of each row, so that they are
 * the same however the rows are partitioned. Spark's {@code sample} and {@code sampleBy} seed each partition
 * apart, and a collect returns rows in partition order: the same data split into other partitions (a cluster
 * reading a file in more splits) would otherwise give another sample, or the same rows in another order, and
 * every seeded draw made from them on the driver (a tree's rows, a covariance start) would change.
 *
 * <p>The hash is of {@code _pg_id} when the rows have it (the guard's own rows always do), else of the drawn values
 * themselves: rows that hash alike are then identical in everything drawn, so their order is immaterial.
 */
final class SeededDraw {
  private static final double TWO_TO_53 = 0x1p53;
  private static final String KEY = Columns.PREFIX + "draw_key";
  private static final String CLASS = Columns.PREFIX + "draw_class";

  private SeededDraw() {}

  /** A uniform number in [0, 1) per row, from a seeded hash of {@code keys} and {@code salt}. */
  static Column uniform(long seed, String salt, Column... keys) {
    Column[] hashed = Arrays.copyOf(keys, keys.length + 2);
    hashed[keys.length] = lit(seed);
    hashed[keys.length + 1] = lit(salt);
    return functions.pmod(functions.xxhash64(hashed), lit((long) TWO_TO_53)).divide(lit(TWO_TO_53));
  }

  /**
   * At most {@code cap} rows of {@code columns}: every row when there are no more, else a seeded uniform choice of
   * {@code cap}; in the order of their hash. About {@code 1.1 × cap} rows pass the hash filter; each partition
   * keeps its {@code cap} smallest keys, and the {@code cap} smallest of those reach the driver.
   *
   * @param rows the rows to draw from
   * @param rowCount the number of {@code rows} (the caller has counted them)
   * @param columns the values drawn, as expressions over {@code rows}
   */
  static List<Row> draw(Dataset<?> rows, long rowCount, int cap, long seed, String salt, Column... columns) {
    double share = Math.min(1.0, 1.1 * cap / Math.max(1, rowCount));
    // a sample, not the dataset: at most cap rows reach the driver
    List<Row> drawn = keyed(rows, null, seed, salt, columns).where(col(KEY).lt(share)).orderBy(order(rows))
        .limit(cap).collectAsList();
    return leading(drawn, columns.length);
  }

  /**
   * Per class, at most {@code cap} rows of {@code columns}: all of a class when it has no more, else a seeded
   * uniform choice; in the order of class, then hash. About {@code 1.1 × cap} rows per class pass the hash filter
   * and reach the driver; the cut to {@code cap} is the caller's, taking each class's first rows.
   *
   * @param label the class of a row, as an expression over {@code rows}
   * @param classRows the number of rows of each class (the caller has counted them)
   * @param columns the values drawn, as expressions over {@code rows}
   */
  static List<Row> drawPerClass(Dataset<?> rows, Column label, Map<Double, Long> classRows, int cap, long seed,
      String salt, Column... columns) {
    Column kept = lit(false);
    for (Map.Entry<Double, Long> c : classRows.entrySet()) {
      double share = Math.min(1.0, 1.1 * cap / Math.max(1, c.getValue()));
      kept = kept.or(col(CLASS).equalTo(lit(c.getKey())).and(col(KEY).lt(share)));
    }
    Column[] order = order(rows);
    Column[] byClass = new Column[order.length + 1];
    byClass[0] = col(CLASS);
    System.arraycopy(order, 0, byClass, 1, order.length);
    // a sample, not the dataset: about 1.1 × cap rows per class reach the driver
    List<Row> drawn = keyed(rows, label, seed, salt, columns).where(kept).orderBy(byClass).collectAsList();
    return leading(drawn, columns.length);
  }

  /** {@code columns}, then the class (when given), the hash key and {@code _pg_id} (when the rows have it). */
  private static Dataset<Row> keyed(Dataset<?> rows, Column label, long seed, String salt, Column... columns) {
    boolean hasId = hasId(rows);
    List<Column> selected = new ArrayList<>(Arrays.asList(columns));
    if (label != null) {
      selected.add(label.cast("double").as(CLASS));
    }
    selected.add(uniform(seed, salt, hasId ? new Column[] {col(Columns.ID)} : columns).as(KEY));
    if (hasId) {
      selected.add(col(Columns.ID));
    }
    return rows.toDF().select(selected.toArray(Column[]::new));
  }

  /** Hash order; ties (of distinct rows, only with an id) broken by the id. */
  private static Column[] order(Dataset<?> rows) {
    return hasId(rows) ? new Column[] {col(KEY), col(Columns.ID)} : new Column[] {col(KEY)};
  }

  private static boolean hasId(Dataset<?> rows) {
    return Arrays.asList(rows.columns()).contains(Columns.ID);
  }

  /** The first {@code width} values of each row: the drawn columns, without what {@link #keyed} put after them. */
  private static List<Row> leading(List<Row> keyed, int width) {
    List<Row> out = new ArrayList<>(keyed.size());
    for (Row r : keyed) {
      Object[] values = new Object[width];
      for (int i = 0; i < width; i++) {
        values[i] = r.get(i);
      }
      out.add(RowFactory.create(values));
    }
    return out;
  }
}
