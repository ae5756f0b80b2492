package io.poisonguard.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.config.ConfigException;
import io.poisonguard.sanitize.Verdict;
import io.poisonguard.sanitize.VerdictTables;
import io.poisonguard.spark.Columns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The rows an earlier accepted run of a pipeline left in its {@code clean} table, read at the version that run
 * wrote, as trusted reference data for a new batch (the pipeline's {@code reference: last_accepted}).
 *
 * <p>The run chosen is the newest accepted one that shares no {@code _pg_id} with the batch: a batch must not be
 * its own yardstick, and a rerun of an accepted batch is then measured against the run its first pass was measured
 * against, so its verdicts repeat. Only the newest {@link #CANDIDATES} accepted runs are tried, one small semi-join
 * each; a batch that repeats rows of all of them is fitted on itself.
 *
 * @param rows the reference rows, with the batch's accepted columns
 * @param runId the accepted run the rows come from
 * @param table the clean table's path
 * @param version the clean table's Delta version the rows were read at
 */
public record AcceptedReference(Dataset<Row> rows, String runId, String table, long version) {
  /** The pipeline file's value of {@code reference} that asks for this reference. */
  public static final String KEYWORD = "last_accepted";
  /** How many of the newest accepted runs are tried for one that shares no row with the batch. */
  public static final int CANDIDATES = 5;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * The clean rows of the newest accepted run of {@code pipeline} that shares no row id with {@code batch}, with
   * {@code batch}'s columns; empty when no such run is among the newest {@link #CANDIDATES} accepted ones.
   *
   * @param batch the accepted rows of the batch under inspection
   * @throws ConfigException when the chosen run's clean rows lack one of the batch's columns
   */
  public static Optional<AcceptedReference> find(SparkSession spark, String warehouse, String pipeline,
      Dataset<Row> batch) {
    VerdictTables tables = new VerdictTables(spark, warehouse + "/" + pipeline);
    Dataset<Row> batchIds = batch.select(Columns.ID);
    for (Row run : new AuditLog(spark, warehouse).acceptedRuns(pipeline, CANDIDATES)) {
      String runId = run.getAs("run_id");
      JsonNode version = outputs(run).get(Verdict.CLEAN.name());
      if (version == null) {
        continue;
      }
      Dataset<Row> clean = tables.readAt(Verdict.CLEAN, version.asLong())
          .filter(Columns.col(Columns.RUN_ID).equalTo(runId));
      if (!clean.join(batchIds, clean.col(Columns.ID).equalTo(batchIds.col(Columns.ID)), "left_semi").isEmpty()) {
        continue;
      }
      return Optional.of(new AcceptedReference(clean.select(columnsOf(batch, clean, runId)), runId,
          tables.path(Verdict.CLEAN), version.asLong()));
    }
    return Optional.empty();
  }

  /** What the run read as its reference, for the audit record. */
  public Map<String, Object> provenance() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("last_accepted_run", runId);
    p.put("path", table);
    p.put("format", "delta");
    p.put("delta_version", version);
    return p;
  }

  private static JsonNode outputs(Row run) {
    try {
      return JSON.readTree(run.<String>getAs("outputs"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Column[] columnsOf(Dataset<Row> batch, Dataset<Row> clean, String runId) {
    List<String> present = Arrays.asList(clean.columns());
    for (String c : batch.columns()) {
      if (!present.contains(c)) {
        throw new ConfigException("reference: " + KEYWORD + " chose run " + runId + ", whose clean rows have no "
            + "column '" + c + "' of this batch; set reference to a file of trusted rows, or to null");
      }
    }
    return Arrays.stream(batch.columns()).map(Columns::col).toArray(Column[]::new);
  }
}
