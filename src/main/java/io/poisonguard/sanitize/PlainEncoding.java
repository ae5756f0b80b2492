package io.poisonguard.sanitize;

import io.poisonguard.profile.ColumnProfile;
import io.poisonguard.profile.Profile;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The batch's columns whose values rarely repeat, judged from its profile: the verdict tables write them without
 * Parquet's dictionary encoding ({@link VerdictTables#write(java.util.Map, Set)}). A dictionary pays for itself only
 * when values repeat often. When they do not, Parquet builds it anyway, hashing every value of a column chunk, and
 * then either keeps one that is larger than the plain values or drops it once it outgrows its page.
 *
 * <p>Measured on the 1M-row scale data (bench/scale: resampled Spambase rows with 5% noise, 32 numeric features, so
 * each column's distinct share is its share of nonzero values). Each column was written with Snappy in 32 MiB row
 * groups, once with dictionaries and once without:
 * <ul>
 *   <li>Plain was smaller for every column at a distinct share of 0.086 or more: 1.70 against 1.90 MB at 0.146,
 *       4.82 against 5.35 MB at 0.501. It was the same size above 0.9, where Parquet drops the dictionary itself.</li>
 *   <li>The dictionary was smaller at 0.085 or less: 0.16 against 0.48 MB at 0.011, 1.10 against 1.11 MB at 0.085.</li>
 *   <li>The whole set took 1.8 s to write plain against 3.0 s with dictionaries (second of two rounds in one JVM),
 *       96.4 against 103.2 MB.</li>
 * </ul>
 * Only numeric columns are judged, the kind measured. Text repeats at longer values, where a dictionary saves more,
 * so categorical columns keep Parquet's default. A row group holds fewer rows to repeat in than the batch, so unless
 * the rows arrive sorted on the column, its distinct share is at least the batch's: a column judged plain here is
 * high-cardinality in nearly every file.
 */
public final class PlainEncoding {
  /** Distinct values per non-null value at or above which a numeric column is written plain. */
  public static final double MIN_DISTINCT_SHARE = 0.1;

  private PlainEncoding() {}

  /**
   * The columns to write plain: the numeric columns of {@code profile} whose distinct values are at least
   * {@link #MIN_DISTINCT_SHARE} of their non-null values, and {@code idColumn}, whose values are unique in a batch.
   *
   * @param profile the profile of the rows written
   * @param idColumn the batch's own id column, or null when it has none
   */
  public static Set<String> columns(Profile profile, String idColumn) {
    Set<String> plain = new LinkedHashSet<>();
    if (idColumn != null) {
      plain.add(idColumn);
    }
    for (ColumnProfile column : profile.columns()) {
      if (column.numeric() && column.count() > 0 && column.distinct() >= MIN_DISTINCT_SHARE * column.count()) {
        plain.add(column.name());
      }
    }
    return plain;
  }
}
