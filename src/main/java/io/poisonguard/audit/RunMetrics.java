package io.poisonguard.audit;

import io.poisonguard.config.InputConfig;
import io.poisonguard.detect.SourceFinding;
import io.poisonguard.detect.SourceScreen;
import io.poisonguard.gate.GateDecision;
import io.poisonguard.gate.GateInputs;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A run's metrics history in long form ({@code _audit/metrics}: entity, name, metric, value), the way a metrics
 * repository keeps them so that any metric can be followed across runs with one query: quarantine reasons by code
 * ({@code reason}), suspicion per source ({@code source}), the gate's measurements and decision ({@code gate}) and
 * the role of each input column ({@code input}).
 */
public final class RunMetrics {
  /** Schema of {@code _audit/metrics}. */
  public static final StructType SCHEMA = new StructType()
      .add("run_id", DataTypes.StringType, false)
      .add("pipeline", DataTypes.StringType, false)
      .add("entity", DataTypes.StringType, false)
      .add("name", DataTypes.StringType)
      .add("metric", DataTypes.StringType, false)
      .add("value", DataTypes.DoubleType)
      .add("detail", DataTypes.StringType)
      .add("computed_at", DataTypes.TimestampType, false);

  /** Most sources kept per run, by flagged share: enough for any report, bounded for a feed-per-file input. */
  static final int MAX_SOURCES = 1000;

  private final String runId;
  private final String pipeline;
  private final Timestamp now = Timestamp.from(Instant.now());
  private final List<Row> rows = new ArrayList<>();

  /** Metrics of one run. */
  public RunMetrics(String runId, String pipeline) {
    this.runId = runId;
    this.pipeline = pipeline;
  }

  /**
   * Counts flagged rows by reason code and, per source, rows, flagged rows and their share, with the findings that
   * flagged a source as a whole. One small aggregation over {@code flaggedRows} (the flagged rows of the batch); the
   * per-source counts come from the source screen's, which saw every row: a source flagged as a whole by any finding
   * has all its rows flagged, any other its own flagged rows.
   *
   * @param flaggedRows the batch's flagged rows, source verdicts applied
   * @param screened the source screen's verdicts, one per source of the batch
   * @param findings every finding on the batch's sources (the screen's among them)
   */
  public RunMetrics detection(Dataset<Row> flaggedRows, List<SourceScreen.Verdict> screened,
      List<? extends SourceFinding> findings) {
    // one row per reason code (a handful) comes back
    for (Row r : flaggedRows
        .select(functions.explode(Columns.col(Columns.REASONS)).as("reason"))
        .groupBy(functions.substring_index(functions.col("reason"), ":", 1).as("code")).count()
        .collectAsList()) {
      add("reason", r.getString(0), "rows", (double) r.getLong(1), null);
    }
    record Tally(String source, long rows, long flagged) {}
    List<Tally> tallies = new ArrayList<>();
    for (SourceScreen.Verdict v : screened) {
      boolean whole = findings.stream().anyMatch(f -> f.flagged() && Objects.equals(f.source(), v.source()));
      tallies.add(new Tally(v.source(), v.rows(), whole ? v.rows() : v.flaggedRows()));
    }
    // highest flagged share first, then the larger source, then by name: capped at MAX_SOURCES
    tallies.sort(Comparator.comparingDouble((Tally t) -> -(double) t.flagged() / t.rows())
        .thenComparingLong(t -> -t.rows())
        .thenComparing(Tally::source, Comparator.nullsFirst(Comparator.naturalOrder())));
    for (Tally t : tallies.subList(0, Math.min(tallies.size(), MAX_SOURCES))) {
      add("source", t.source(), "rows", (double) t.rows(), null);
      add("source", t.source(), "flagged", (double) t.flagged(), null);
      add("source", t.source(), "flagged_share", t.flagged() / (double) t.rows(), null);
    }
    for (SourceFinding f : findings) {
      if (f.flagged()) {
        add("source", f.source(), "flagged_as_whole", 1.0, f.reason());
      }
    }
    return this;
  }

  /**
   * The role of each input column ({@code label}, {@code id}, {@code source}, {@code numeric}, {@code categorical}),
   * so that exports know which reasons quote a redacted column's values.
   */
  public RunMetrics input(InputConfig input, FeatureSchema schema) {
    add("input", schema.labelColumn(), "role", null, "label");
    if (input.id() != null) {
      add("input", input.id(), "role", null, "id");
    }
    if (input.source() != null) {
      add("input", input.source(), "role", null, "source");
    }
    schema.numericFeatures().forEach(f -> add("input", f, "role", null, "numeric"));
    schema.categoricalFeatures().forEach(f -> add("input", f, "role", null, "categorical"));
    return this;
  }

  /** The gate's measurements and its decision (the outcome in {@code detail}, with its reasons). */
  public RunMetrics gate(GateInputs in, GateDecision decision) {
    double read = Math.max(1, in.rowsRead());
    add("gate", "decision", "quarantine_fraction", in.quarantined() / read, decision.outcome().label());
    add("gate", "decision", "rejected_fraction", in.rejected() / read, decision.outcome().label());
    if (in.maxPsi() != null) {
      add("gate", in.maxPsiFeature(), "max_psi", in.maxPsi(), decision.outcome().label());
    }
    if (in.maxLabelShareChange() != null) {
      add("gate", in.maxLabelShareClass(), "max_label_share_change", in.maxLabelShareChange(),
          decision.outcome().label());
    }
    for (String reason : decision.reasons()) {
      add("gate", "decision", "reason", null, reason);
    }
    return this;
  }

  /**
   * The combined p-value at or under which rows were flagged, with the contamination setting in {@code detail}
   * ({@code off}, {@code auto} or the share); with a setting, also the share the level was set for (the fixed share
   * or the batch's estimate).
   */
  public RunMetrics flagLevel(double level, String contamination, double share) {
    add("detect", "flag", "level", level, contamination);
    if (!contamination.equals("off")) {
      add("detect", "flag", "contamination_share", share, contamination);
    }
    return this;
  }

  /** That detection set the pipeline's trusted reference aside and fitted on the batch, and why. */
  public RunMetrics trustedReferenceSetAside(String why) {
    add("detect", "reference", "set_aside", 1.0, why);
    return this;
  }

  /** Flagged rows per reason code, most first (ties by code), at most {@code limit} codes. */
  public Map<String, Long> reasonCounts(int limit) {
    Map<String, Long> out = new LinkedHashMap<>();
    rows.stream().filter(r -> r.getString(2).equals("reason"))
        .sorted(Comparator.comparingDouble((Row r) -> -r.getDouble(5)).thenComparing(r -> r.getString(3)))
        .limit(limit).forEach(r -> out.put(r.getString(3), (long) r.getDouble(5)));
    return out;
  }

  private void add(String entity, String name, String metric, Double value, String detail) {
    rows.add(RowFactory.create(runId, pipeline, entity, name, metric, value, detail, now));
  }

  /** The collected metrics as rows of {@code _audit/metrics}. */
  public Dataset<Row> toRows(SparkSession spark) {
    return spark.createDataFrame(rows, SCHEMA);
  }
}
