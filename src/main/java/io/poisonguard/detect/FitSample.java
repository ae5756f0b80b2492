package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.lit;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * The rows detectors are fitted on when the reference is large: a seeded sample of about {@code maxRows} rows,
 * chosen by a hash of {@code _pg_id}, so the same rows are chosen whatever the partitioning (a local and a
 * cluster run fit on the same sample). Fitting is the part of detection that reads the data many times (quantile
 * passes, Newton iterations, covariance sums); scoring reads every row once however the detectors were fitted.
 * Statistics of a few hundred thousand rows (medians, per-class covariances, a logistic model of d + 1 weights per
 * class) differ from those of millions by far less than the differences the detectors look for.
 *
 * <p>Classes keep their share of the rows, except rare ones: a class keeps at least {@value #RARE_CLASS_ROWS} rows
 * (all of them when it has fewer), so per-class statistics exist for it wherever they would without the sample.
 */
public final class FitSample {
  /** Rows a class keeps at least, when it has them. */
  public static final long RARE_CLASS_ROWS = 1_000;

  private FitSample() {}

  /**
   * The sample, or {@code rows} itself when it has at most {@code maxRows} rows or {@code maxRows} is 0. Reads
   * {@code rows} once (its class counts, which also give its size): pass it persisted.
   *
   * @param rows rows with {@code _pg_id}
   * @param labelColumn the class column, or null
   * @param maxRows rows to keep, about; 0 keeps every row
   * @param seed the sample's seed
   */
  public static Dataset<Row> of(Dataset<Row> rows, String labelColumn, long maxRows, long seed) {
    return split(rows, labelColumn, maxRows, seed).fit();
  }

  /**
   * The fit sample and the rows it left out, or a sample of about {@code maxRows} of those.
   *
   * @param fit the sample ({@code rows} itself when nothing was left out)
   * @param heldOut rows not in {@code fit}, a seeded sample of about {@code maxRows} of them when there are more;
   *     null when {@code fit} is every row
   */
  public record Split(Dataset<Row> fit, Dataset<Row> heldOut) {}

  /**
   * As {@link #of}, with the held-out rows: a second seeded hash of {@code _pg_id} picks them among the rows the
   * sample left out, so they too are the same whatever the partitioning.
   */
  public static Split split(Dataset<Row> rows, String labelColumn, long maxRows, long seed) {
    if (maxRows <= 0) {
      return new Split(rows, null);
    }
    // one row per class (one row in all without a class column)
    List<Row> counts = (labelColumn == null ? rows.groupBy() : rows.groupBy(col(labelColumn))).count()
        .collectAsList();
    long n = counts.stream().mapToLong(c -> c.getLong(c.size() - 1)).sum();
    if (n <= maxRows) {
      return new Split(rows, null);
    }
    double share = (double) maxRows / n;
    Column u = uniform(seed, "fit-sample");
    Column keep = u.lt(share);
    if (labelColumn != null) {
      for (Row c : counts) {
        long classRows = c.getLong(1);
        if (!c.isNullAt(0) && classRows * share < RARE_CLASS_ROWS) {
          double classShare = Math.min(1.0, (double) RARE_CLASS_ROWS / classRows);
          keep = keep.or(col(labelColumn).equalTo(lit(c.get(0))).and(u.lt(classShare)));
        }
      }
    }
    double heldOutShare = Math.min(1.0, (double) maxRows / (n - maxRows));
    Column heldOut = functions.not(keep).and(uniform(seed, "held-out").lt(heldOutShare));
    return new Split(rows.where(keep), rows.where(heldOut));
  }

  /** A uniform number in [0, 1) per row, from a seeded hash of its id and {@code salt}. */
  private static Column uniform(long seed, String salt) {
    return SeededDraw.uniform(seed, salt, col(Columns.ID));
  }
}
