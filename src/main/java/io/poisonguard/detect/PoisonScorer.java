package io.poisonguard.detect;

import io.poisonguard.config.DetectConfig;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * The detection stage: prepares features once, fits every enabled detector and a {@link TailCalibrator} per
 * detector, and combines their evidence into one poison score per row.
 *
 * <p>Combination: each detector's p-value p_i; the row's p-value is Bonferroni's {@code min(1, k·min p_i)} over
 * the k detectors, which keeps the false-positive rate at or below the target whatever the dependence between
 * detectors. {@code _pg_poison_score = 1 − that p-value}; a row is flagged when the p-value is at most the
 * pipeline's target false-positive rate, and its reasons are every detector whose own corrected p-value is, the
 * strongest first.
 */
public final class PoisonScorer {
  private PoisonScorer() {}

  /**
   * Fits preparation, detectors and calibration on {@code fitOn}: a trusted reference when
   * {@code fitOnTrusted}, otherwise the batch itself (then only its robust bulk calibrates the scores).
   */
  public static Fitted fit(Dataset<Row> fitOn, FeatureSchema schema, DetectConfig config, long seed,
      boolean fitOnTrusted) {
    FeaturePreparerModel preparer = new FeaturePreparer()
        .setColumns(schema.numericFeatures(), schema.categoricalFeatures(), schema.labelColumn()).fit(fitOn);
    Dataset<Row> prepared = preparer.transform(fitOn).select(Columns.FEATURES, Columns.LABEL_INDEX)
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<DetectorModel<?>> models = new ArrayList<>();
      for (DetectorEstimator<?> detector : DetectorRegistry.configured(config.detectors(), seed)) {
        models.add(detector.fit(prepared));
      }
      Dataset<Row> scored = prepared;
      for (DetectorModel<?> m : models) {
        scored = m.transform(scored);
      }
      String[] logScores = new String[models.size()];
      Column[] columns = new Column[models.size()];
      for (int i = 0; i < models.size(); i++) {
        logScores[i] = "__log_score_" + i;
        columns[i] = functions.log1p(functions.greatest(functions.col(models.get(i).scoreColumn()),
            functions.lit(0.0))).as(logScores[i]);
      }
      Dataset<Row> logs = scored.select(columns);
      long n = prepared.count();
      double[] levels = TailCalibrator.levelsFor(n, fitOnTrusted);
      double[][] quantiles = logs.stat().approxQuantile(logScores, levels, 1e-4);
      List<TailCalibrator> calibrators = new ArrayList<>();
      for (double[] q : quantiles) {
        calibrators.add(TailCalibrator.fromQuantiles(levels, q));
      }
      return new Fitted(preparer, models, calibrators, config.targetFpr());
    } finally {
      prepared.unpersist();
    }
  }

  /**
   * The fitted detection stage, applied to any batch with the same columns.
   *
   * @param preparer the shared preparation
   * @param models fitted detectors
   * @param calibrators one per detector, in the same order
   * @param targetFpr the flagging threshold on the combined p-value
   */
  public record Fitted(FeaturePreparerModel preparer, List<DetectorModel<?>> models,
      List<TailCalibrator> calibrators, double targetFpr) {

    /** Reason codes of the fitted detectors. */
    public List<String> detectorCodes() {
      return models.stream().map(PoisonDetector::reasonCode).toList();
    }

    /**
     * The batch with its own columns plus {@code _pg_score_<code>} per detector, {@code _pg_poison_score},
     * {@code _pg_flagged} and {@code _pg_reasons}.
     */
    public Dataset<Row> transform(Dataset<Row> batch) {
      Dataset<Row> out = preparer.transform(batch);
      for (DetectorModel<?> m : models) {
        out = m.transform(out);
      }
      int k = models.size();
      List<String> pColumns = new ArrayList<>();
      StringBuilder candidates = new StringBuilder();
      for (int i = 0; i < k; i++) {
        DetectorModel<?> m = models.get(i);
        TailCalibrator calibrator = calibrators.get(i);
        UserDefinedFunction pValue = functions.udf((UDF1<Double, Double>) s -> calibrator.pValue(
            s == null ? Double.NaN : s), DataTypes.DoubleType);
        String p = "__p_" + m.reasonCode();
        out = out.withColumn(p, functions.least(functions.lit(1.0),
            pValue.apply(functions.col(m.scoreColumn())).multiply(k)));
        pColumns.add(p);
        if (i > 0) {
          candidates.append(", ");
        }
        candidates.append(String.format(Locale.ROOT, "named_struct('p', `%s`, 'text', concat('%s:', "
            + "coalesce(`%s`, 'score=' || format_number(`%s`, 3))))", p, m.reasonCode(), m.evidenceColumn(),
            m.scoreColumn()));
      }
      Column combined = k == 1 ? functions.col(pColumns.get(0))
          : functions.least(pColumns.stream().map(functions::col).toArray(Column[]::new));
      String reasons = String.format(Locale.ROOT,
          "transform(array_sort(filter(array(%s), r -> r.p <= %s)), r -> r.text)", candidates, targetFpr);
      List<String> helpers = new ArrayList<>(pColumns);
      helpers.add(Columns.FEATURES);
      helpers.add(Columns.LABEL_INDEX);
      models.forEach(m -> helpers.add(m.evidenceColumn()));
      return out.withColumn(Columns.POISON_SCORE, functions.lit(1.0).minus(combined))
          .withColumn(Columns.FLAGGED, combined.leq(targetFpr))
          .withColumn(Columns.REASONS, functions.expr(reasons))
          .drop(helpers.toArray(String[]::new));
    }
  }
}
