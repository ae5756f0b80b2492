package io.poisonguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.audit.AcceptedReference;
import io.poisonguard.audit.AuditLog;
import io.poisonguard.audit.DetectorStatistics;
import io.poisonguard.audit.ModelRecord;
import io.poisonguard.audit.RunMetrics;
import io.poisonguard.audit.RunRecord;
import io.poisonguard.config.ConfigException;
import io.poisonguard.config.Contamination;
import io.poisonguard.config.InputConfig;
import io.poisonguard.config.PipelineConfig;
import io.poisonguard.config.PipelineLoader;
import io.poisonguard.detect.PoisonScorer;
import io.poisonguard.detect.SourceFinding;
import io.poisonguard.detect.SourceInfluence;
import io.poisonguard.detect.SourceScreen;
import io.poisonguard.gate.Gate;
import io.poisonguard.gate.GateDecision;
import io.poisonguard.gate.GateInputs;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.profile.DriftAnalyzer;
import io.poisonguard.profile.DriftReport;
import io.poisonguard.profile.Profile;
import io.poisonguard.profile.Profiler;
import io.poisonguard.report.HtmlReport;
import io.poisonguard.report.RunDocument;
import io.poisonguard.report.RunSummary;
import io.poisonguard.sanitize.PlainEncoding;
import io.poisonguard.sanitize.Verdict;
import io.poisonguard.sanitize.VerdictTables;
import io.poisonguard.sanitize.Winsorizer;
import io.poisonguard.spark.BatchStorage;
import io.poisonguard.spark.Columns;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * One run of a pipeline through every stage: ingest, profile, detect, sanitize, gate, write, audit, train (when the
 * pipeline has a {@code train:} section and the gate passed), report. Stages run in
 * flow order and each hands the next a Spark plan, not data: nothing but aggregates reaches the driver.
 */
final class GuardJob {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STAGES = 8;
  private static final int STAGES_WITH_TRAINING = 9;
  /** Reason codes shown in the run summary. */
  private static final int TOP_REASONS = 5;
  /** Characters Delta refuses in a column name (without column mapping). */
  private static final Pattern DELTA_NAME_FORBIDS = Pattern.compile("[ ,;{}()\\n\\t=]");

  private final SparkSession spark;
  private final PipelineLoader.Loaded loaded;
  private final PipelineConfig config;
  private final String warehouse;
  private final PrintStream out;

  GuardJob(SparkSession spark, PipelineLoader.Loaded loaded, String warehouse, PrintStream out) {
    this.spark = spark;
    this.loaded = loaded;
    this.config = loaded.config();
    this.warehouse = warehouse;
    this.out = out;
  }

  /** Runs the pipeline and returns its summary; the caller turns the gate outcome into an exit code. */
  RunSummary run() throws Exception {
    Instant started = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    String runId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(started)
        + "-" + UUID.randomUUID().toString().substring(0, 8);
    StageClock clock = new StageClock(out, config.train() == null ? STAGES : STAGES_WITH_TRAINING);
    AuditLog audit = new AuditLog(spark, warehouse);
    String pipelineRoot = warehouse + "/" + config.name();
    VerdictTables tables = new VerdictTables(spark, pipelineRoot);

    IngestedBatch batch = clock.stage("ingest", () -> new Ingestor(spark).read(config.input(), runId),
        b -> "read " + describeInputs(b));
    List<Runnable> toRelease = new ArrayList<>();
    try {
      requireTableColumnNames(batch.accepted().columns());
      List<String> differences = tables.columnsDifferingFrom(batch.accepted().schema());
      if (!differences.isEmpty()) {
        throw new ConfigException("input: " + differences.get(0) + (differences.size() > 1 ? " (and "
            + (differences.size() - 1) + " more column difference(s))" : "") + "; the batch tables of pipeline '"
            + config.name() + "' keep one set of columns: give the batch those columns, or run it under another "
            + "pipeline name (--set name=...)");
      }
      Counts read = clock.stage("count", () -> Counts.of(batch.records()),
          c -> c.total + " rows read, " + c.rejected + " rejected as malformed");
      FeatureSchema schema = batch.features();
      Dataset<Row> accepted = batch.accepted();

      Optional<ReferenceRows> reference = reference(accepted, runId);
      reference.ifPresent(r -> toRelease.add(r.release()));
      Profiled profiled = clock.stage("profile", () -> profile(audit, runId, accepted, schema, reference),
          p -> (p.drift() == null ? "profiled " + schema.allFeatures().size()
              + " features; no reference yet, drift skipped" : String.format("max PSI %.3f (%s), max label-share "
              + "change %.3f", p.drift().maxPsi(), p.drift().maxPsiFeature(), p.drift().maxLabelShareChange()))
              + identifierWarning(p.current()));
      DriftReport drift = profiled.drift();

      Detection detection = clock.stage("detect", () -> detect(accepted, schema, reference),
          d -> d.flagged() + " flagged by " + String.join(", ", detectorCodes(d.scored()))
              + flagLevel(d.detected().fitted()) + lastAccepted(reference)
              + d.detected().trustedSetAside().map(why -> "; reference set aside: " + why).orElse("")
              + (d.screened().skipped() == null ? "" : "; source screen skipped: " + d.screened().skipped()));
      Dataset<Row> scored = detection.scored();
      long quarantined = detection.flagged();
      long clean = read.accepted - quarantined;

      GateInputs gateInputs = new GateInputs(read.total, quarantined, read.rejected,
          drift == null ? null : drift.maxPsi(), drift == null ? null : drift.maxPsiFeature(),
          drift == null ? null : drift.maxLabelShareChange(), drift == null ? null : drift.maxLabelShareClass());
      GateDecision decision = clock.stage("gate", () -> new Gate(config.gate()).decide(gateInputs),
          d -> d.outcome().label() + (d.reasons().isEmpty() ? "" : ": " + d.reasons().get(0)));

      Map<Verdict, VerdictTables.Commit> commits;
      try {
        commits = clock.stage("write", () -> write(tables, batch, scored, detection.flaggedRows(), schema, reference,
            decision, profiled.current()), v -> "committed " + v.keySet().stream().map(Verdict::table).toList());
        verifyAccounting(tables, commits, runId, read.total);
      } catch (Exception e) {
        // the tables may hold part of the batch now: the audit says so, and which run it was
        RunRecord failed = new RunRecord(runId, config.name(), loaded.file().toString(), loaded.sha256(), started,
            Instant.now().truncatedTo(ChronoUnit.MILLIS), RunRecord.FAILED, read.total, clean, quarantined,
            read.rejected, decision.outcome().label(), decision.reasons(), json(inputs(batch, reference)),
            json(Map.of("error", String.valueOf(e.getMessage()).lines().findFirst().orElse(""))),
            drift == null ? null : json(drift.summary()), json(clock.timings()), json(software()), config.seed(),
            audit.lastHash(config.name()), null);
        try {
          audit.append(failed);
        } catch (Exception unrecorded) {
          e.addSuppressed(unrecorded);
        }
        throw e;
      }
      Map<Verdict, Long> versions = VerdictTables.versions(commits);

      RunMetrics metrics = new RunMetrics(runId, config.name()).input(config.input(), schema)
          .detection(detection.flaggedRows(), detection.screened().verdicts(), detection.sources())
          .gate(gateInputs, decision);
      PoisonScorer.Fitted fitted = detection.detected().fitted();
      metrics.flagLevel(fitted.flagLevel(), config.detect().contamination().describe(), fitted.contaminationShare());
      detection.detected().trustedSetAside().ifPresent(metrics::trustedReferenceSetAside);
      Map<String, String> tablePaths = new LinkedHashMap<>();
      for (Verdict v : Verdict.values()) {
        tablePaths.put(v.table(), tables.path(v));
      }
      tablePaths.put("audit_runs", audit.path("runs"));
      tablePaths.put("audit_profiles", audit.path("profiles"));
      Map<String, Object> driftMap = drift == null ? Map.of() : drift.summary();
      RunSummary summary = new RunSummary(runId, config.name(), read.total, clean, quarantined, read.rejected,
          decision.outcome().label(), decision.reasons(), metrics.reasonCounts(TOP_REASONS), tablePaths, driftMap,
          clock.timings());
      Dataset<Row> metricRows = metrics.toRows(spark);
      Audited audited = clock.stage("audit", () -> {
        // small local tables, kept: they give the run's report without reading them back
        List<Row> detectorStats = DetectorStatistics.compute(spark, scored, detection.detectors(), runId,
            config.name()).collectAsList();
        audit.appendRows("detector_stats", spark.createDataFrame(detectorStats, DetectorStatistics.SCHEMA));
        audit.appendRows("metrics", metricRows);
        return new Audited(audit.append(new RunRecord(runId, config.name(), loaded.file().toString(),
          loaded.sha256(), started, Instant.now().truncatedTo(ChronoUnit.MILLIS), RunRecord.OK, read.total, clean,
          quarantined, read.rejected, decision.outcome().label(), decision.reasons(), json(inputs(batch, reference)),
          json(versions), drift == null ? null : json(driftMap), json(clock.timings()), json(software()),
          config.seed(), audit.lastHash(config.name()), null)), detectorStats);
      }, a -> "recorded run " + a.record().runId());
      detection.release();
      List<ModelRecord> models = new ArrayList<>();
      if (config.train() != null) {
        if (decision.accepted()) {
          models.add(clock.stage("train", () -> new ModelTraining(spark, config, warehouse).train(runId, runId,
              versions.get(Verdict.CLEAN)), m -> String.format("%s model %s, %d training rows of clean v%d",
              m.trainer(), m.modelPath(), m.trainRows(), m.cleanVersion())));
        } else {
          clock.stage("train", () -> "skipped: the gate failed, the batch added nothing to the clean table", s -> s);
        }
      }
      // the document `audit show` and `audit export` read back from the audit, from the records just appended (a new
      // run has no releases yet): reading six audit tables took 4.5 s of a 1M-row run (event log of bench/profile)
      RunDocument doc = RunDocument.of(audited.record(), audited.detectorStats(), metricRows.collectAsList(),
          profiled.driftRows(), List.of(), models);
      clock.stage("report", () -> new HtmlReport(spark, warehouse).write(doc), path -> "wrote " + path);
      // every stage, where the run record (written in the audit stage) has those up to the write
      return summary.withTimings(clock.timings());
    } finally {
      toRelease.forEach(Runnable::run);
      batch.release();
    }
  }

  /**
   * The pipeline's reference rows, if it has any: its {@code reference} file, read with the batch's reader settings,
   * or with {@code last_accepted} the clean rows of an earlier accepted run ({@link AcceptedReference}), kept while
   * the run reads them.
   */
  private Optional<ReferenceRows> reference(Dataset<Row> accepted, String runId) {
    if (config.reference() == null) {
      return Optional.empty();
    }
    if (config.reference().equals(AcceptedReference.KEYWORD)) {
      return AcceptedReference.find(spark, warehouse, config.name(), accepted).map(r -> {
        Dataset<Row> rows = r.rows().persist(BatchStorage.LEVEL);
        return new ReferenceRows(rows, r.provenance(), "clean rows of accepted run " + r.runId() + " (clean v"
            + r.version() + ")", () -> rows.unpersist(true));
      });
    }
    IngestedBatch read = new Ingestor(spark).read(withPath(config.input(), config.reference()), runId);
    return Optional.of(new ReferenceRows(read.accepted(), read.inputs(), config.reference(), read::release));
  }

  /** A warning naming the categorical features that look like identifiers, or nothing. */
  private static String identifierWarning(Profile profile) {
    List<String> columns = profile.identifierLikeColumns();
    String named = columns.stream().map(c -> "'" + c + "'").collect(Collectors.joining(", "));
    return columns.isEmpty() ? "" : (columns.size() == 1 ? "; warning: column " + named + " has" : "; warning: columns "
        + named + " have") + " nearly all values distinct, like an identifier: set input.id to it or list it in "
        + "input.exclude";
  }

  /** With {@code reference: last_accepted}, which run the detect stage measured against, or that none could be. */
  private String lastAccepted(Optional<ReferenceRows> reference) {
    if (!AcceptedReference.KEYWORD.equals(config.reference())) {
      return "";
    }
    return "; reference: " + reference.map(ReferenceRows::origin).orElse("no accepted run without rows of this batch "
        + "among the last " + AcceptedReference.CANDIDATES + ", fitted on the batch");
  }

  /** The run's audit record and the detector statistics appended with it. */
  private record Audited(RunRecord record, List<Row> detectorStats) {}

  /**
   * The batch's profile, the drift against the last accepted run or the reference (null without either) and its
   * audit rows.
   */
  private record Profiled(Profile current, DriftReport drift, List<Row> driftRows) {}

  private Profiled profile(AuditLog audit, String runId, Dataset<Row> accepted, FeatureSchema schema,
      Optional<ReferenceRows> reference) {
    Profiler profiler = new Profiler();
    Profile current = profiler.compute(accepted, schema, runId);
    Optional<Profile> baseline = audit.lastAcceptedRun(config.name())
        .map(previous -> Profile.fromRows(audit.rowsOfRun("profiles", previous).collectAsList()))
        .or(() -> reference.map(r -> profiler.compute(r.accepted(), schema, runId)));
    DriftReport drift = baseline.map(b -> new DriftAnalyzer().compare(b, current, accepted, schema)).orElse(null);
    Dataset<Row> metrics = current.toRows(spark, config.name());
    Dataset<Row> driftRows = drift == null ? null : drift.toRows(spark, runId, config.name());
    audit.appendRows("profiles", drift == null ? metrics : metrics.union(driftRows));
    return new Profiled(current, drift, drift == null ? List.of() : driftRows.collectAsList());
  }

  private Detection detect(Dataset<Row> accepted, FeatureSchema schema, Optional<ReferenceRows> reference) {
    double target = config.detect().targetFpr();
    PoisonScorer.Scored detected = PoisonScorer.fitAndScore(accepted,
        reference.map(ReferenceRows::accepted).orElse(null), schema, config.detect(), config.seed());
    PoisonScorer.Fitted fitted = detected.fitted();
    Dataset<Row> rows = detected.rows();
    SourceScreen.Screened screened = SourceScreen.judge(rows, target);
    List<SourceFinding> sources = new ArrayList<>(screened.verdicts());
    // a reference too small for the detectors is too small to test sources on as well
    reference.filter(r -> detected.trustedSetAside().isEmpty())
        .ifPresent(r -> sources.addAll(SourceInfluence.judge(fitted, accepted, r.accepted(), target)));
    Dataset<Row> scored = SourceFinding.flagRows(rows, sources);
    // Kept apart while they are counted, so the quarantine's write and the reason counts read these rows only. At 1M
    // rows (event logs of bench/profile) the count now reads every column, 1.7 s against 0.4 s for the flag alone,
    // and the two readers, which read the whole batch, went from 1.6 s and 0.4 s to 0.2 s and less: 0.4 s net.
    Dataset<Row> flagged = scored.filter(Columns.col(Columns.FLAGGED)).persist(BatchStorage.LEVEL);
    try {
      return new Detection(scored, flagged, flagged.count(), detected, fitted.unboundedScores(), screened, sources);
    } catch (RuntimeException e) {
      flagged.unpersist();
      throw e;
    }
  }

  /**
   * The scored batch with source verdicts applied, its flagged rows (kept until {@link #release}) and how many they
   * are, the detection it derives from (its rows kept until the run ends), the detectors that scored it (code to
   * unbounded score), the source screen's verdicts and every finding on its sources (the screen's among them).
   */
  private record Detection(Dataset<Row> scored, Dataset<Row> flaggedRows, long flagged, PoisonScorer.Scored detected,
      Map<String, Boolean> detectors, SourceScreen.Screened screened, List<SourceFinding> sources) {
    /** Frees the kept rows: the flagged ones and the scored batch. */
    void release() {
      flaggedRows.unpersist();
      detected.release();
    }
  }

  private Map<Verdict, VerdictTables.Commit> write(VerdictTables tables, IngestedBatch batch, Dataset<Row> scored,
      Dataset<Row> flagged, FeatureSchema schema, Optional<ReferenceRows> reference, GateDecision decision,
      Profile profile) {
    Dataset<Row> passed = scored.filter(functions.not(Columns.col(Columns.FLAGGED)));
    if (config.sanitize().winsorize()) {
      Dataset<Row> bounds = reference.map(ReferenceRows::accepted).orElse(passed);
      passed = Winsorizer.fit(bounds, schema.numericFeatures(), config.sanitize().winsorizeLower(),
          config.sanitize().winsorizeUpper()).transform(passed);
    }
    Map<Verdict, Dataset<Row>> byVerdict = new EnumMap<>(Verdict.class);
    byVerdict.put(Verdict.REJECTED, batch.rejected());
    byVerdict.put(Verdict.QUARANTINE, flagged);
    byVerdict.put(decision.accepted() ? Verdict.CLEAN : Verdict.STAGED, passed);
    return tables.write(byVerdict, PlainEncoding.columns(profile, config.input().id()));
  }

  /**
   * Refuses input columns whose names a Delta table cannot hold, before any work: found at the write, they cost the
   * whole run and left a failed record that a rerun could never mend.
   */
  private static void requireTableColumnNames(String[] columns) {
    for (String column : columns) {
      if (!column.startsWith(Columns.PREFIX) && DELTA_NAME_FORBIDS.matcher(column).find()) {
        throw new ConfigException("input: column '" + column + "' has a space or one of ,;{}()= in its name, which "
            + "Delta tables do not allow; rename it in the input (its header or key)");
      }
    }
  }

  /**
   * The accounting invariant, from what the Delta log records of this run's commits: each commit's own count of the
   * batch's rows it left in its table, or, where the log holds no count, the rows stamped with this run read back
   * from the table. A run that cannot prove it fails. ({@code audit verify} recounts every run from the tables.)
   * Reading three tables back cost 3.5 s of a 1M-row run (nine Spark jobs, event log of {@code bench/profile}).
   */
  private static void verifyAccounting(VerdictTables tables, Map<Verdict, VerdictTables.Commit> commits, String runId,
      long rowsRead) {
    long inTables = 0;
    for (Map.Entry<Verdict, VerdictTables.Commit> e : commits.entrySet()) {
      long rows = e.getValue().batchRows();
      inTables += rows >= 0 ? rows : tables.countForRun(e.getKey(), runId);
    }
    if (inTables != rowsRead) {
      throw new IllegalStateException("accounting check failed for run " + runId + ": " + rowsRead
          + " rows read but " + inTables + " rows in the " + commits.keySet().stream().map(Verdict::table).toList()
          + " tables");
    }
  }

  /** With a contamination setting, the level the flag was set at and the share behind it; else nothing. */
  private String flagLevel(PoisonScorer.Fitted fitted) {
    Contamination contamination = config.detect().contamination();
    if (contamination.mode() == Contamination.Mode.OFF) {
      return "";
    }
    return String.format(Locale.ROOT, "; flag level p <= %.3g for contamination %s (share %.4f)", fitted.flagLevel(),
        contamination.describe(), fitted.contaminationShare());
  }

  private static List<String> detectorCodes(Dataset<Row> scored) {
    String prefix = Columns.PREFIX + "score_";
    return java.util.Arrays.stream(scored.columns()).filter(c -> c.startsWith(prefix))
        .map(c -> c.substring(prefix.length())).toList();
  }

  /** What the run read: the batch's files or table versions, and the reference's when there is one. */
  private static Map<String, Object> inputs(IngestedBatch batch, Optional<ReferenceRows> reference) {
    Map<String, Object> in = new LinkedHashMap<>();
    in.put("batch", batch.inputs());
    in.put("reference", reference.map(ReferenceRows::provenance).orElse(null));
    return in;
  }

  private static String describeInputs(IngestedBatch batch) {
    return batch.inputs().size() == 1 ? batch.inputs().get(0).path() : batch.inputs().size() + " files";
  }

  private static InputConfig withPath(InputConfig in, String path) {
    return new InputConfig(path, in.format(), in.label(), in.id(), in.source(), in.features(), in.exclude(),
        in.schema(), in.options());
  }

  private Map<String, String> software() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("poisonguard", Optional.ofNullable(GuardJob.class.getPackage().getImplementationVersion()).orElse("dev"));
    s.put("spark", spark.version());
    s.put("delta", Optional.ofNullable(io.delta.tables.DeltaTable.class.getPackage().getImplementationVersion())
        .orElse("unknown"));
    s.put("java", System.getProperty("java.version"));
    s.put("master", spark.sparkContext().master());
    return s;
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (Exception e) {
      throw new IllegalStateException("cannot write audit JSON", e);
    }
  }

  /** Rows read and rejected, from one aggregation over the cached records. */
  private record Counts(long total, long rejected, long accepted) {
    static Counts of(Dataset<Row> records) {
      Row r = records.agg(functions.count(functions.lit(1)),
          functions.count(Columns.col(Columns.ERROR))).head();
      return new Counts(r.getLong(0), r.getLong(1), r.getLong(0) - r.getLong(1));
    }
  }
}
