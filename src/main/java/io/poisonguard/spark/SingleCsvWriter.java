package io.poisonguard.spark;

import java.io.IOException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Writes a dataset as one CSV file with a header, for files people and other tools open directly (scores,
 * red-team data, truth). Spark writes it (one task, so the rows stream through one executor, never the driver),
 * then the single part file is renamed to the requested name.
 */
public final class SingleCsvWriter {
  private SingleCsvWriter() {}

  /** Writes {@code rows} to {@code target} (a file path), replacing it; rows keep their order. */
  public static void write(Dataset<Row> rows, String target) throws IOException {
    Path out = new Path(target);
    Path staging = new Path(out.getParent(), "." + out.getName() + ".parts");
    FileSystem fs = out.getFileSystem(rows.sparkSession().sparkContext().hadoopConfiguration());
    rows.coalesce(1).write().mode("overwrite").option("header", "true").option("escape", "\"")
        .option("nullValue", "").option("emptyValue", "").csv(staging.toString());
    FileStatus[] parts = fs.globStatus(new Path(staging, "part-*"));
    if (parts == null || parts.length != 1) {
      throw new IOException("expected one part file under " + staging + ", found "
          + (parts == null ? 0 : parts.length));
    }
    fs.delete(out, false);
    if (!fs.rename(parts[0].getPath(), out)) {
      throw new IOException("cannot move " + parts[0].getPath() + " to " + out);
    }
    fs.delete(staging, true);
    fs.delete(new Path(out.getParent(), "." + out.getName() + ".crc"), false);
  }
}
