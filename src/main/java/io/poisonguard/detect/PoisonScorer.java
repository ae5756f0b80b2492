package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.poisonguard.config.ConfigException;
import io.poisonguard.config.Contamination;
import io.poisonguard.config.DetectConfig;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.BatchStorage;
import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * The detection stage as one call: prepare the features, fit the enabled detectors and calibrate each one's
 * score to a tail probability, all on the reference data; then score any batch, combining the detectors'
 * tail probabilities into one verdict per row. Fitted on the batch itself, the combination is the Simes bound
 * ({@link SimesCombination}): every detector weighs alike, since nothing tells which one's tail holds the poison.
 * Fitted on trusted data (cross-fitted, see {@link #fit}), the batch's p-values can be compared with the uniform
 * ones clean data would give, and each detector is weighed by that evidence ({@link EnrichmentCombination}).
 */
public final class PoisonScorer {
  /** Reason code of rows whose label the reference data never had (flagged whatever the detectors say). */
  public static final String UNSEEN_LABEL = "unseen_label";

  private PoisonScorer() {}

  /**
   * Fits the detection stage.
   *
   * @param fitOn reference rows: the trusted set when given, else the batch itself. The preparation and the
   *     detectors are fitted on at most about {@code config.fitRows()} of them ({@link FitSample}); the calibration
   *     reads the scores of all trusted rows, or of the batch's rows when the sample is all of them, else of a
   *     held-out sample of about {@code config.fitRows()} of the rows the fit sample left out
   * @param schema label and feature columns
   * @param config target false-positive rate and detector settings (validated here)
   * @param seed seed for every random choice (detectors without an explicit seed setting)
   * @param fitOnTrusted whether {@code fitOn} is trusted (chooses the calibration, see {@link TailCalibrator}).
   *     Trusted data is cross-fitted: its rows fall in two halves by a seeded hash of {@code _pg_id}, each half's
   *     detectors are fitted on the other half, and the calibration reads every trusted row's score from the
   *     detectors that never saw it. Batch rows are scored the same way, each by the half its id hashes to, so
   *     that a clean batch row and a trusted row are exactly alike to the detectors: a detector fitted on the
   *     rows it scores calls them more typical than new ones, and one fitted on more rows scores on another
   *     scale (per-class statistics where a half would pool them, a denser neighbour pool), and either would
   *     shift the batch against its yardstick. Measured on letter (26 classes, a 800-row trusted sample): with
   *     detectors fitted on the whole sample and calibrated out of fold, robust_z alone flagged 9.6% of clean
   *     rows at a 1% target.
   */
  public static Fitted fit(Dataset<Row> fitOn, FeatureSchema schema, DetectConfig config, long seed,
      boolean fitOnTrusted) {
    return fit(fitOn, null, schema, config, seed, fitOnTrusted);
  }

  /**
   * As {@link #fit(Dataset, FeatureSchema, DetectConfig, long, boolean)}; fitted on trusted rows, the detectors that
   * pool the batch ({@link DetectorEstimator#poolsTheBatch}) are fitted on each half's trusted rows together with
   * a seeded sample of about {@code config.fitRows()} of {@code batch}'s, the same sample for both halves. A batch
   * row in the pool of the half that scores it is not its own neighbour (see {@link KnnLabelDetector}), so it and a
   * trusted row still meet the same pool. Without the batch, or fitted on the batch, those detectors are left out.
   *
   * @param batch the batch to be scored, or null
   */
  static Fitted fit(Dataset<Row> fitOn, Dataset<Row> batch, FeatureSchema schema, DetectConfig config, long seed,
      boolean fitOnTrusted) {
    boolean batchPool = fitOnTrusted && batch != null;
    List<DetectorEstimator<?>> estimators = estimators(config, seed, batchPool);
    FitRows fitRows = FitRows.of(fitOn, schema, config, seed);
    FeaturePreparerModel preparer = fitRows.preparer();
    Dataset<Row> prepared = fitRows.prepared();
    try {
      if (!fitOnTrusted) {
        List<DetectorModel<?>> models = fitAll(estimators, prepared);
        return batchCalibrated(fitRows, fitOn, models, models, config, seed);
      }
      // Every trusted row is scored, also those the sample left out.
      Dataset<Row> scoredRows = fitRows.sampled() ? preparedColumns(preparer.transform(fitOn)) : prepared;
      List<List<DetectorModel<?>>> halves = new ArrayList<>();
      Dataset<Row> outOfFold = null;
      Dataset<Row> batchRows = estimators.stream().noneMatch(DetectorEstimator::poolsTheBatch) ? null
          : preparedColumns(preparer.transform(FitSample.of(batch, null, config.fitRows(), seed)))
              .persist(StorageLevel.MEMORY_AND_DISK());
      for (int half = 0; half < 2; half++) {
        Dataset<Row> trustedHalf = prepared.where(half(seed).notEqual(half));
        List<DetectorModel<?>> models = fitAll(estimators, trustedHalf,
            batchRows == null ? trustedHalf : trustedHalf.union(batchRows));
        halves.add(models);
        Dataset<Row> scored = scoreAll(models, scoredRows.where(half(seed).equalTo(half)));
        outOfFold = outOfFold == null ? scored : outOfFold.union(scored);
      }
      if (batchRows != null) {
        batchRows.unpersist();
      }
      Dataset<Row> kept = outOfFold.persist(StorageLevel.MEMORY_AND_DISK());
      try {
        return new Fitted(preparer, halves, calibrate(halves.get(0), kept, TailCalibrator.Reference.TRUSTED),
            config.targetFpr(), seed, new EnrichmentCombination());
      } finally {
        kept.unpersist();
      }
    } finally {
      prepared.unpersist();
    }
  }

  /**
   * Fits the detection stage and scores {@code batch} with it: what {@link #fit} then {@link Fitted#transform}
   * give, row for row. Without trusted data the detectors are fitted on the batch itself and every detector scores
   * the batch once (at a million rows that pass is the dearest part of detection): a batch small enough to be
   * its own fit sample is calibrated on the very scores of the result, a larger one on the scores of a held-out
   * sample of its rows, before the batch is scored. Calibrating a 1M-row batch on all of its scores cost a second
   * read of every row's detector output (16.6 s of 175.6 s) and a third to draw the verdicts from it (13.0 s).
   *
   * @param batch the rows to score (fitted on a sample of them when larger than {@code config.fitRows()})
   * @param trusted trusted reference rows to fit on (cross-fitted, see {@link #fit}), or null to fit on the batch;
   *     set aside, the batch fitted on instead, when it holds fewer than {@link #minTrustedRows} rows
   * @param schema label and feature columns
   * @param config target false-positive rate and detector settings (validated here)
   * @param seed seed for every random choice
   * @return the fitted stage and the scored batch, as {@link Fitted#transform} returns it, over rows kept on
   *     local disk ({@link BatchStorage}): the caller releases them ({@link Scored#release}) when done with the batch
   */
  public static Scored fitAndScore(Dataset<Row> batch, Dataset<Row> trusted, FeatureSchema schema,
      DetectConfig config, long seed) {
    Optional<String> setAside = Optional.empty();
    if (trusted != null) {
      long trustedRows = trusted.count();
      long needed = minTrustedRows(config.targetFpr());
      if (trustedRows >= needed) {
        Fitted trustedFit = fit(trusted, batch, schema, config, seed, true);
        // the level from a seeded uniform sample of the batch (fitted on trusted rows, none of it was fitted on)
        Fitted fitted = atContaminationLevel(trustedFit,
            () -> trustedFit.transform(FitSample.of(batch, null, config.fitRows(), seed)), config);
        Dataset<Row> rows = fitted.transform(batch).persist(BatchStorage.LEVEL);
        return new Scored(fitted, rows, setAside);
      }
      setAside = Optional.of(String.format(Locale.ROOT, "the trusted sample has %d rows, fewer than "
          + "the %d (1 / target_fpr) it takes to hold one in the tail the flag is set in; the detectors are fitted "
          + "and calibrated on the batch instead", trustedRows, needed));
    }
    return fitAndScoreOnBatch(batch, schema, config, seed, setAside);
  }

  /**
   * The fewest trusted rows the detection stage is fitted and calibrated on: 1 / target false-positive rate. With
   * fewer, not one trusted row is expected beyond the level the flag's threshold sits at, so the calibration there
   * is extrapolated from the few rows at the top of a sample too small to show its tail, and the detectors are
   * fitted on halves of it. Measured before this rule ({@code TRUSTED=true bench/detection} at 02d68ce against
   * {@code bench/detection} at e7ab76a): breast cancer's 57-row trusted sample gave an ensemble ROC-AUC of 0.960 on
   * average over its 8 attacks, against 0.983 fitted on the batch, and a flag false-positive rate of about 6% on
   * all 8; the four sets with about 180 to 800 trusted rows gained from them (mean ROC-AUC 0.983 against 0.880).
   */
  public static long minTrustedRows(double targetFpr) {
    // a target whose reciprocal is an integer must need exactly that many rows, not one more from rounding
    return (long) Math.ceil(1 / targetFpr - 1e-9);
  }

  private static Scored fitAndScoreOnBatch(Dataset<Row> batch, FeatureSchema schema, DetectConfig config, long seed,
      Optional<String> trustedSetAside) {
    List<DetectorEstimator<?>> estimators = estimators(config, seed, false);
    FitRows fitRows = FitRows.of(batch, schema, config, seed);
    FeaturePreparerModel preparer = fitRows.preparer();
    Dataset<Row> prepared = fitRows.prepared();
    List<DetectorModel<?>> models;
    try {
      models = fitAll(estimators, prepared);
    } finally {
      prepared.unpersist();
    }
    if (fitRows.sampled()) {
      // Calibrated on the held-out sample, so the batch is scored once, verdicts and all; the detectors that
      // count within the batch (duplicates) count it once, for their calibration and for the verdicts alike.
      Dataset<Row> preparedBatch = preparer.transform(batch);
      Dataset<Row> population = preparedColumns(preparedBatch);
      List<DetectorModel<?>> onBatch = models.stream().<DetectorModel<?>>map(m -> m.againstRowsOf(population)).toList();
      Fitted calibrated = batchCalibrated(fitRows, batch, models, onBatch, config, seed);
      // the level from the held-out rows, a sample of the batch the detectors were not fitted on
      Fitted fitted = atContaminationLevel(calibrated,
          () -> calibrated.verdicts(detect(onBatch, fitRows.calibrationRows())), config);
      return new Scored(fitted, fitted.verdicts(detect(onBatch, preparedBatch)).persist(BatchStorage.LEVEL),
          trustedSetAside);
    }
    // Fitted on the whole batch, which is also what it is calibrated on: the detectors' output over the whole
    // batch is kept while the calibration reads its scores and the verdicts are drawn from it, feature vectors and
    // all, since the flagged rows' evidence is read from them (a batch this small is at most the fit sample). The
    // verdicts are kept in turn, since every later stage reads them (source screen, flagged count, table writes,
    // audit statistics); then the detectors' output goes. Both are on disk (BatchStorage): two batch-wide copies
    // in the memory store are what ran a 1 GiB JVM out of heap at 10M rows.
    Detected output = detect(models, preparer.transform(batch));
    Dataset<Row> detected = output.rows().persist(BatchStorage.LEVEL);
    try {
      Fitted calibrated = batchStage(preparer, models,
          calibrate(models, detected.select(scoreCols(models)), TailCalibrator.Reference.BATCH), config, seed);
      // the level from the whole batch: its detector output is kept, so this pass runs no detector
      Fitted fitted = atContaminationLevel(calibrated,
          () -> calibrated.verdicts(new Detected(detected, output.evidence())), config);
      Dataset<Row> rows = fitted.verdicts(new Detected(detected, output.evidence())).persist(BatchStorage.LEVEL);
      try {
        // filled now, while the detectors' output is still kept: filled later, it would run the detectors again
        rows.count();
      } catch (RuntimeException e) {
        rows.unpersist();
        throw e;
      }
      return new Scored(fitted, rows, trustedSetAside);
    } finally {
      detected.unpersist();
    }
  }

  /**
   * {@code fitted} flagging at the level its contamination setting gives on {@code sampleVerdicts} (its verdicts over
   * rows of the batch, or a sample of them; built only when there is a setting), or {@code fitted} itself without one.
   */
  private static Fitted atContaminationLevel(Fitted fitted, Supplier<Dataset<Row>> sampleVerdicts,
      DetectConfig config) {
    if (config.contamination().mode() == Contamination.Mode.OFF) {
      return fitted;
    }
    return fitted.at(FlagLevel.of(sampleVerdicts.get(), config.contamination(), config.targetFpr()));
  }

  /**
   * A fitted detection stage and the batch it scored.
   *
   * @param fitted the fitted stage
   * @param rows the scored batch (see {@link Fitted#transform}), persisted until {@link #release}
   * @param trustedSetAside why a trusted sample that was given was not fitted on ({@link #minTrustedRows}), or empty
   */
  public record Scored(Fitted fitted, Dataset<Row> rows, Optional<String> trustedSetAside) {
    /**
     * Frees the scored rows, waiting until they are gone (see {@code IngestedBatch.release}); they are then
     * computed again, detectors and all, if read once more.
     */
    public void release() {
      rows.unpersist(true);
    }
  }

  /**
   * The enabled detectors' estimators; at least one, or the configuration is rejected.
   *
   * @param batchPool whether the fit can give the detectors that pool the batch ({@link
   *     DetectorEstimator#poolsTheBatch}) the batch's rows: only a trusted fit that is given the batch can, and
   *     without one they are left out (fitted on the batch, {@code knn_label} already searches it)
   */
  private static List<DetectorEstimator<?>> estimators(DetectConfig config, long seed, boolean batchPool) {
    List<DetectorEstimator<?>> enabled = DetectorRegistry.build(config.detectors(), seed);
    if (enabled.isEmpty()) {
      throw new ConfigException("detect.detectors: every detector is disabled; enable at least one of "
          + String.join(", ", DetectorRegistry.names()));
    }
    List<DetectorEstimator<?>> estimators = enabled.stream().filter(e -> batchPool || !e.poolsTheBatch()).toList();
    if (estimators.isEmpty()) {
      throw new ConfigException("detect.detectors: only " + enabled.get(0).reasonCode() + " is enabled, and it runs"
          + " only with trusted data (reference, or scan --trusted); enable another detector as well");
    }
    return estimators;
  }

  /**
   * What the detectors are fitted on: the fit sample of the reference rows ({@link FitSample}), the preparation
   * fitted on it, and the sample prepared once and shared, persisted (the caller unpersists it): every detector
   * and the calibration read these columns only.
   *
   * @param heldOut when the sample left rows out, a seeded sample of about {@code fitRows} of those (see
   *     {@link FitSample#split}), else null
   */
  private record FitRows(FeaturePreparerModel preparer, Dataset<Row> prepared, Dataset<Row> heldOut) {
    static FitRows of(Dataset<Row> fitOn, FeatureSchema schema, DetectConfig config, long seed) {
      FitSample.Split split = FitSample.split(fitOn, schema.labelColumn(), config.fitRows(), seed);
      // A sample is read twice, by the preparation's fit and to prepare it: kept, it is drawn from the reference
      // rows once instead of twice (a pass over every row of the batch, 1.8 s at 1M rows). Without a sample the
      // rows are the caller's, kept already.
      boolean sampled = split.heldOut() != null;
      Dataset<Row> sample = sampled ? split.fit().persist(StorageLevel.MEMORY_AND_DISK()) : split.fit();
      try {
        FeaturePreparerModel preparer = FeaturePreparer.forSchema(schema).fit(sample);
        Dataset<Row> prepared = preparedColumns(preparer.transform(sample)).persist(StorageLevel.MEMORY_AND_DISK());
        if (sampled) {
          // filled while the sample is kept
          prepared.count();
        }
        return new FitRows(preparer, prepared, split.heldOut());
      } finally {
        if (sampled) {
          sample.unpersist();
        }
      }
    }

    /** Whether the sample left rows out. */
    boolean sampled() {
      return heldOut != null;
    }

    /**
     * The rows a batch fit is calibrated on: the held-out rows when the sample left some out, prepared. Their
     * scores are those of rows the detectors never saw, like nearly all the rows of a large batch, and reading them
     * costs a pass over a sample instead of a second pass over the batch. Otherwise the fit rows themselves.
     */
    Dataset<Row> calibrationRows() {
      return sampled() ? preparedColumns(preparer.transform(heldOut)) : prepared;
    }
  }

  /** The columns the detectors and the calibration read from prepared rows. */
  private static Dataset<Row> preparedColumns(Dataset<Row> prepared) {
    return prepared.select(Columns.FEATURES, Columns.LABEL_INDEX, Columns.ID);
  }

  /**
   * A stage fitted on the batch ({@code fitOn}), calibrated on the scores of {@link FitRows#calibrationRows}, but
   * for detectors that do not score row by row ({@link DetectorModel#scoresRowByRow}): counted within a held-out
   * sample, their scores would be those of a smaller batch, so they are calibrated on their scores of the whole
   * batch, as {@code onFitOn} (the same detectors, or their copies that have counted {@code fitOn} already, see
   * {@link DetectorModel#againstRowsOf}) score it: from their counts when those give the scores
   * ({@link DetectorModel#countedScores}), else from a pass of theirs alone over the batch.
   */
  private static Fitted batchCalibrated(FitRows fitRows, Dataset<Row> fitOn, List<DetectorModel<?>> models,
      List<DetectorModel<?>> onFitOn, DetectConfig config, long seed) {
    TailCalibrator[] calibrators = new TailCalibrator[models.size()];
    if (fitRows.sampled()) {
      calibrateInto(calibrators, models, DetectorModel::scoresRowByRow, fitRows.calibrationRows());
      calibrateCounted(calibrators, onFitOn);
      calibrateInto(calibrators, onFitOn, m -> !m.scoresRowByRow() && m.countedScores().isEmpty(),
          preparedColumns(fitRows.preparer().transform(fitOn)));
    } else {
      calibrateInto(calibrators, models, m -> true, fitRows.prepared());
    }
    return batchStage(fitRows.preparer(), models, List.of(calibrators), config, seed);
  }

  /**
   * Fits the calibrators of the detectors whose counts give their scores over the rows they counted
   * ({@link DetectorModel#countedScores}), into their positions in {@code calibrators}, from those counts.
   */
  private static void calibrateCounted(TailCalibrator[] calibrators, List<DetectorModel<?>> models) {
    for (int i = 0; i < models.size(); i++) {
      DetectorModel<?> model = models.get(i);
      Optional<Dataset<Row>> counted = model.countedScores();
      if (counted.isPresent()) {
        calibrators[i] = TailCalibrator.fit(counted.get(), List.of(DetectorModel.COUNTED_SCORE),
            DetectorModel.COUNTED_ROWS, List.of(model.unboundedScore()), TailCalibrator.Reference.BATCH).get(0);
      }
    }
  }

  /**
   * Fits the calibrators of the {@code chosen} detectors on their scores of {@code rows}, into their positions in
   * {@code calibrators}.
   */
  private static void calibrateInto(TailCalibrator[] calibrators, List<DetectorModel<?>> models,
      Predicate<DetectorModel<?>> chosen, Dataset<Row> rows) {
    List<Integer> at = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      if (chosen.test(models.get(i))) {
        at.add(i);
      }
    }
    if (at.isEmpty()) {
      return;
    }
    List<DetectorModel<?>> subset = at.stream().<DetectorModel<?>>map(models::get).toList();
    Dataset<Row> scores = scoreAll(subset, rows).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<TailCalibrator> fitted = calibrate(subset, scores, TailCalibrator.Reference.BATCH);
      for (int k = 0; k < at.size(); k++) {
        calibrators[at.get(k)] = fitted.get(k);
      }
    } finally {
      scores.unpersist();
    }
  }

  /**
   * A stage fitted on the batch with these calibrators; Simes combines the detectors, since nothing tells which
   * one's tail holds the poison.
   */
  private static Fitted batchStage(FeaturePreparerModel preparer, List<DetectorModel<?>> models,
      List<TailCalibrator> calibrators, DetectConfig config, long seed) {
    return new Fitted(preparer, List.of(models), calibrators, config.targetFpr(), seed, new SimesCombination());
  }

  /** Which of the two cross-fitted halves a row belongs to: 0 or 1, by a seeded hash of its id. */
  private static Column half(long seed) {
    return functions.pmod(functions.xxhash64(col(Columns.ID), lit(seed)), lit(2L));
  }

  /** Fits every detector on {@code prepared}, the ones that fit the same logistic model sharing it. */
  private static List<DetectorModel<?>> fitAll(List<DetectorEstimator<?>> estimators, Dataset<Row> prepared) {
    return fitAll(estimators, prepared, prepared);
  }

  private static List<DetectorModel<?>> fitAll(List<DetectorEstimator<?>> estimators, Dataset<Row> prepared,
      Dataset<Row> pooled) {
    List<DetectorModel<?>> models = new ArrayList<>();
    try (SharedLogisticFit.Scope shared = SharedLogisticFit.scope()) {
      for (DetectorEstimator<?> estimator : estimators) {
        models.add(estimator.fit(estimator.poolsTheBatch() ? pooled : prepared));
      }
    }
    return models;
  }

  /** The detectors' score columns only, over {@code prepared}. */
  private static Dataset<Row> scoreAll(List<DetectorModel<?>> models, Dataset<Row> prepared) {
    return detect(models, prepared).rows().select(scoreCols(models));
  }

  private static Column[] scoreCols(List<DetectorModel<?>> models) {
    return models.stream().map(m -> col(m.getScoreCol())).toArray(Column[]::new);
  }

  /**
   * {@code rows} with every detector's score column, and each detector's evidence as an expression over them
   * ({@link DetectorModel#scoreDeferringEvidence}): the verdicts read it for flagged rows only. The detectors that
   * score each row alone ({@link DetectorModel#rowScorer}) score it in one call
   * ({@link RowScoringModel#scoreTogether}); the columns come in detector order all the same.
   */
  private static Detected detect(List<DetectorModel<?>> models, Dataset<Row> rows) {
    List<DetectorModel<?>> alone = new ArrayList<>();
    List<RowScoringModel.RowScorer> scorers = new ArrayList<>();
    boolean[] together = new boolean[models.size()];
    for (int i = 0; i < models.size(); i++) {
      DetectorModel<?> model = models.get(i);
      Optional<RowScoringModel.RowScorer> scorer = model.rowScorer();
      if (scorer.isPresent()) {
        alone.add(model);
        scorers.add(scorer.get());
        together[i] = true;
      }
    }
    RowScoringModel.ScoredTogether scoredAlone = RowScoringModel.scoreTogether(alone, scorers, rows);
    Dataset<Row> scored = scoredAlone.rows();
    Column[] evidence = new Column[models.size()];
    for (int i = 0, next = 0; i < models.size(); i++) {
      DetectorModel<?> model = models.get(i);
      if (together[i]) {
        evidence[i] = scoredAlone.evidence().get(next++);
      } else {
        DetectorModel.ScoredRows output = model.scoreDeferringEvidence(scored);
        scored = output.rows();
        evidence[i] = output.evidence();
      }
    }
    List<String> columns = new ArrayList<>(List.of(rows.columns()));
    Set<String> written = Set.copyOf(List.of(scored.columns()));
    for (DetectorModel<?> model : models) {
      columns.add(model.getScoreCol());
      if (written.contains(model.getEvidenceCol())) {
        columns.add(model.getEvidenceCol());
      }
    }
    scored = scored.select(columns.stream().map(Columns::col).toArray(Column[]::new));
    return new Detected(scored, List.of(evidence));
  }

  /**
   * Rows with the detectors' score columns.
   *
   * @param rows the rows, prepared, with one score column per detector
   * @param evidence per detector, in order, its evidence as an expression over {@code rows}' columns
   */
  private record Detected(Dataset<Row> rows, List<Column> evidence) {}

  /**
   * Calibrates each detector's score. {@code scores} must be persisted: a score with a point mass needs a
   * second calibration pass, which must not re-run the detectors.
   */
  private static List<TailCalibrator> calibrate(List<DetectorModel<?>> models, Dataset<Row> scores,
      TailCalibrator.Reference reference) {
    return TailCalibrator.fit(scores, models.stream().map(DetectorModel::getScoreCol).toList(),
        models.stream().map(DetectorModel::unboundedScore).toList(), reference);
  }

  /** A fitted detection stage; scoring is distributed (no row reaches the driver). */
  public static final class Fitted {
    private final FeaturePreparerModel preparer;
    /** One set of fitted detectors, or with a trusted fit two: set h scores the rows of half h. */
    private final List<List<DetectorModel<?>>> modelSets;
    private final List<TailCalibrator> calibrators;
    private final FlagLevel.Level level;
    private final long seed;
    private final Combination combination;

    private Fitted(FeaturePreparerModel preparer, List<List<DetectorModel<?>>> modelSets,
        List<TailCalibrator> calibrators, double targetFpr, long seed, Combination combination) {
      this(preparer, modelSets, calibrators, new FlagLevel.Level(targetFpr, 0), seed, combination);
    }

    private Fitted(FeaturePreparerModel preparer, List<List<DetectorModel<?>>> modelSets,
        List<TailCalibrator> calibrators, FlagLevel.Level level, long seed, Combination combination) {
      this.preparer = preparer;
      this.modelSets = modelSets.stream().<List<DetectorModel<?>>>map(List::copyOf).toList();
      this.calibrators = List.copyOf(calibrators);
      this.level = level;
      this.seed = seed;
      this.combination = combination;
    }

    /** This stage flagging at {@code level} instead. */
    private Fitted at(FlagLevel.Level level) {
      return new Fitted(preparer, modelSets, calibrators, level, seed, combination);
    }

    /**
     * The combined p-value at or under which a row is flagged: the target false-positive rate, or larger with a
     * contamination setting ({@link FlagLevel}).
     */
    public double flagLevel() {
      return level.level();
    }

    /**
     * The contamination share the flag level was set for: the pipeline's fixed share or the batch's estimate; 0
     * without a contamination setting or when the estimate is 0.
     */
    public double contaminationShare() {
      return level.share();
    }

    /** Reason codes of the fitted detectors, in scoring order. */
    public List<String> detectorCodes() {
      return modelSets.get(0).stream().map(PoisonDetector::reasonCode).toList();
    }

    /** Each fitted detector's reason code and whether its score is unbounded above, in scoring order. */
    public Map<String, Boolean> unboundedScores() {
      Map<String, Boolean> unbounded = new LinkedHashMap<>();
      modelSets.get(0).forEach(m -> unbounded.put(m.reasonCode(), m.unboundedScore()));
      return unbounded;
    }

    /**
     * Detector {@code code}'s calibrated tail probability, read from its {@code _pg_score_<code>} column of a
     * scored batch: the p the combination weighed for that detector (1 where the score is missing).
     *
     * @throws IllegalArgumentException if no fitted detector has that reason code
     */
    public Column tailProbability(String code) {
      int i = detectorCodes().indexOf(code);
      if (i < 0) {
        throw new IllegalArgumentException("no fitted detector " + code + "; fitted: " + detectorCodes());
      }
      TailCalibrator tail = calibrators.get(i);
      return udf((UDF1<Double, Double>) score -> tail.pValue(score == null ? Double.NaN : score),
          DataTypes.DoubleType).apply(col(modelSets.get(0).get(i).getScoreCol()));
    }

    /** The fitted preparation step. */
    public FeaturePreparerModel preparer() {
      return preparer;
    }

    /**
     * Reason codes of the detectors that scored no reference row (too few rows per class for them, say): they
     * give no evidence on any batch.
     */
    public List<String> detectorsWithoutEvidence() {
      List<String> silent = new ArrayList<>();
      for (int i = 0; i < calibrators.size(); i++) {
        if (!calibrators.get(i).informative()) {
          silent.add(detectorCodes().get(i));
        }
      }
      return silent;
    }

    /**
     * Scores a batch: all its columns plus {@code _pg_score_<code>} per detector, {@code _pg_poison_score},
     * {@code _pg_flagged} and {@code _pg_reasons}. The helper columns (prepared features, class index,
     * evidence, tail probabilities) are dropped. Lazy, but for a fit on trusted data: weighing the detectors
     * takes one aggregation over the scored batch here, and the detectors run again for the result.
     */
    public Dataset<Row> transform(Dataset<Row> batch) {
      Dataset<Row> prepared = preparer.transform(batch);
      if (modelSets.size() == 1) {
        return verdicts(detect(modelSets.get(0), prepared));
      }
      Detected[] halves = new Detected[modelSets.size()];
      for (int h = 0; h < halves.length; h++) {
        halves[h] = detect(modelSets.get(h), prepared.where(half(seed).equalTo(h)));
      }
      // each row's evidence from the detectors that scored it, those of its half
      List<Column> evidence = new ArrayList<>();
      for (int i = 0; i < halves[0].evidence().size(); i++) {
        evidence.add(when(half(seed).equalTo(0), halves[0].evidence().get(i))
            .otherwise(halves[1].evidence().get(i)));
      }
      return verdicts(new Detected(halves[0].rows().unionByName(halves[1].rows()), evidence));
    }

    /**
     * The p-values, combined verdict and reasons over {@code detected}, a prepared batch with the detectors'
     * scores; the helper columns are dropped.
     */
    private Dataset<Row> verdicts(Detected detected) {
      Dataset<Row> df = detected.rows();
      List<DetectorModel<?>> detectors = modelSets.get(0);
      List<String> helpers = new ArrayList<>(List.of(Columns.FEATURES, Columns.LABEL_INDEX));
      List<Column> p = new ArrayList<>();
      List<Column> reasons = new ArrayList<>();
      TailCalibrator[] tails = calibrators.toArray(TailCalibrator[]::new);
      // Every detector's tail probability from one call per row, kept in one place (non-deterministic for that
      // alone) so that its readers, the combination's several steps, do not call it again.
      UserDefinedFunction tailProbabilities = udf((UDF1<Row, double[]>) scores -> {
        double[] out = new double[tails.length];
        for (int i = 0; i < tails.length; i++) {
          out[i] = tails[i].pValue(scores.isNullAt(i) ? Double.NaN : scores.getDouble(i));
        }
        return out;
      }, DataTypes.createArrayType(DataTypes.DoubleType, false)).asNondeterministic();
      String all = Columns.PREFIX + "p_all";
      df = df.withColumn(all, tailProbabilities.apply(functions.struct(
          detectors.stream().map(m -> col(m.getScoreCol())).toArray(Column[]::new))));
      helpers.add(all);
      Map<String, Column> pColumns = new LinkedHashMap<>();
      for (int i = 0; i < detectors.size(); i++) {
        DetectorModel<?> model = detectors.get(i);
        String pCol = Columns.PREFIX + "p_" + model.reasonCode();
        pColumns.put(pCol, col(all).getItem(i));
        p.add(col(pCol));
        reasons.add(concat(lit(model.reasonCode() + ":"), detected.evidence().get(i)));
        helpers.add(pCol);
        helpers.add(model.getEvidenceCol());
      }
      df = df.withColumns(pColumns);
      // A label the reference never saw has probability 0 under every model fitted on it: no detector can weigh
      // it, so the row is flagged for that alone, and says so.
      Column unseen = preparer.unseenLabel(df);
      return combination.combine(df, p, reasons, level.level())
          .withColumn(Columns.POISON_SCORE, when(unseen.isNotNull(), lit(1.0)).otherwise(col(Columns.POISON_SCORE)))
          .withColumn(Columns.FLAGGED, unseen.isNotNull().or(col(Columns.FLAGGED)))
          .withColumn(Columns.REASONS, when(unseen.isNotNull(), functions.concat(
              functions.array(functions.concat(lit(UNSEEN_LABEL + ":given="), unseen)), col(Columns.REASONS)))
              .otherwise(col(Columns.REASONS)))
          .drop(helpers.toArray(new String[0]));
    }
  }
}
