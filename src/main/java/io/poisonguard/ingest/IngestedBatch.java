package io.poisonguard.ingest;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * A batch as read: every record once, either accepted (typed) or rejected (raw text and error). The records are
 * cached because every later stage reads them; call {@link #release()} when the run is over.
 *
 * @param records all records with the {@code _pg_} bookkeeping columns and the input's columns
 * @param features which columns are label and features
 * @param inputs what was read, for the audit
 * @param kept the Dataset kept on disk that {@code records} is read from: the records themselves, or the parsed
 *     rows that {@code records} looks repeated ids up in
 */
public record IngestedBatch(Dataset<Row> records, FeatureSchema features, List<InputVersion> inputs,
    Dataset<Row> kept) {

  /** Records that were read cleanly, without the rejection bookkeeping columns. */
  public Dataset<Row> accepted() {
    return records.filter(Columns.col(Columns.ERROR).isNull())
        .drop(Columns.FILE, Columns.LINE, Columns.RAW, Columns.ERROR);
  }

  /** Records that could not be read: id, source, run, file, line, raw text and the error. */
  public Dataset<Row> rejected() {
    return records.filter(Columns.col(Columns.ERROR).isNotNull())
        .select(Columns.ID, Columns.SOURCE, Columns.RUN_ID, Columns.FILE, Columns.LINE, Columns.RAW, Columns.ERROR);
  }

  /**
   * Drops the cached records, waiting until they are gone: released asynchronously just before the session
   * stops, their removal would be refused by the stopping block manager and logged as a stack trace.
   */
  public void release() {
    kept.unpersist(true);
  }
}
