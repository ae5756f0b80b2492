package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.array_append;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * One provenance test's verdict on one source (feed) of a batch: whether all of the source's rows are to be
 * flagged, and the reason they carry. {@link SourceScreen} and {@link SourceInfluence} produce them.
 */
public interface SourceFinding {
  /** The source's value in {@code _pg_source}; null for rows without a source. */
  String source();

  /** Whether every row of the source is flagged. */
  boolean flagged();

  /** The reason code with evidence appended to the reasons of the source's rows when flagged. */
  String reason();

  /**
   * The scored batch with the rows of every flagged source flagged and the finding's reason appended; a source
   * flagged by several findings gets each reason. Poison scores stay the rows' own evidence, so a flagged
   * feed can still be reviewed strongest first. Unchanged when nothing is flagged.
   */
  static Dataset<Row> flagRows(Dataset<Row> scored, List<? extends SourceFinding> findings) {
    Dataset<Row> out = scored;
    for (SourceFinding finding : findings) {
      if (!finding.flagged()) {
        continue;
      }
      Column ofSource = finding.source() == null ? col(Columns.SOURCE).isNull()
          : col(Columns.SOURCE).equalTo(lit(finding.source()));
      out = out.withColumn(Columns.FLAGGED, col(Columns.FLAGGED).or(ofSource))
          .withColumn(Columns.REASONS, when(ofSource, array_append(col(Columns.REASONS), lit(finding.reason())))
              .otherwise(col(Columns.REASONS)));
    }
    return out;
  }
}
