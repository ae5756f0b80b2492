package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.OrderedAggregate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.special.Erf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Provenance by reject-on-negative-influence: a source (feed) is flagged as a whole when a model trained
 * without it does better on the trusted sample than the model trained on every source, by more than chance
 * explains. Reason: {@code source_influence:feed=NAME,trusted_loss_with=…,without=…,z=…}.
 *
 * <p>Models: ridge logistic models on the prepared features ({@link LogisticFits}), one on all sources and one
 * per source left out, fitted together (each Newton pass is one aggregation for all of them). One
 * more pass over the trusted rows gives, per trusted row i and source s, the loss difference
 * {@code d_i = loss_i(all) − loss_i(without s)}; d &gt; 0 means the source raises the loss on trusted data.
 * Test: one-sided paired z-test of mean d against 0 over the trusted rows, Bonferroni-corrected for the number
 * of sources; flagged when the corrected p-value is at most the target false-positive rate and leaving the source
 * out saves at least {@link #MIN_LOSS_SAVING} of the trusted loss. The test holds the fitted models fixed (their
 * own sampling noise is not in it), so it reads "leaving this source out helps on this trusted sample", which is
 * the decision the guard has to make; but with many trusted rows it calls a refit's noise significant, which the
 * least saving keeps from rejecting a whole feed.
 *
 * <p>Needs a trusted sample (without one the batch would be judging itself) and at least two sources. Cost:
 * {@code (sources + 1) × classModels × (d+1)²} per row per Newton pass and as many doubles per task buffer;
 * at most {@value #MAX_SOURCES} sources are tested, a batch with more is not tested (the verdict list is
 * empty and the run says so).
 */
public final class SourceInfluence {
  /** Reason code. */
  public static final String CODE = "source_influence";
  /** Most sources tested in one batch (each adds one model to every Newton pass). */
  public static final int MAX_SOURCES = 64;
  /** Per-row L2 penalty of the logistic models, as the influence detector's default. */
  static final double RIDGE = 1e-3;
  /**
   * Least share of the all-sources model's mean trusted log-loss that leaving a source out must save for the source
   * to be flagged. Measured: a 1M-row batch of two files of the same rows, tested against 994,132 trusted rows of
   * the same content, had one file flagged at z = 34.8 for a saving of 0.09% (trusted loss 0.2307 with it, 0.2305
   * without), half the batch quarantined for a refit's noise; the bad feeds of {@code bench/detection}'s source
   * attack (30% of one feed's labels flipped) save 6% (letter) to 79% (breast cancer) of the loss.
   */
  static final double MIN_LOSS_SAVING = 0.01;
  /** Floor of a predicted probability inside the log-loss, so one confident miss cannot dominate the mean. */
  private static final double MIN_PROBABILITY = 1e-6;

  private SourceInfluence() {}

  /**
   * A source's verdict.
   *
   * @param lossWith mean trusted log-loss of the model trained on every source
   * @param lossWithout mean trusted log-loss of the model trained without this source
   * @param z paired z statistic of the loss difference (positive: the source hurts)
   * @param pValue one-sided p-value, Bonferroni-corrected for the number of sources
   */
  public record Verdict(String source, long rows, double lossWith, double lossWithout, double z, double pValue,
      boolean flagged) implements SourceFinding {
    @Override
    public String reason() {
      return String.format(Locale.ROOT, "%s:feed=%s,trusted_loss_with=%.4f,without=%.4f,z=%.1f", CODE, source,
          lossWith, lossWithout, z);
    }
  }

  /**
   * Tests every source of a batch against the trusted sample.
   *
   * @param fitted the fitted scorer whose feature preparation both datasets go through
   * @param batch the batch (ingested rows with {@code _pg_source})
   * @param trusted the trusted sample (same columns)
   * @param targetFpr the family-wise level at which a source is flagged
   * @return one verdict per source by source name; empty when the batch has no source column, fewer than two
   *     or more than {@value #MAX_SOURCES} sources
   */
  public static List<Verdict> judge(PoisonScorer.Fitted fitted, Dataset<Row> batch, Dataset<Row> trusted,
      double targetFpr) {
    if (!Arrays.asList(batch.columns()).contains(Columns.SOURCE)) {
      return List.of();
    }
    Dataset<Row> prepared = known(fitted.preparer().transform(batch));
    // one row per source, and no more than one past the most tested
    List<Row> perSource = prepared.groupBy(col(Columns.SOURCE)).agg(count(lit(1)))
        .orderBy(col(Columns.SOURCE)).limit(MAX_SOURCES + 1).collectAsList();
    int sources = perSource.size();
    if (sources < 2 || sources > MAX_SOURCES) {
      return List.of();
    }
    Map<String, Integer> index = new HashMap<>();
    for (int s = 0; s < sources; s++) {
      index.put(perSource.get(s).getString(0), s);
    }
    int classes = LabelConsistencyDetector.classCount(prepared.select(Columns.FEATURES, Columns.LABEL_INDEX),
        LogisticFits.classNames(prepared, Columns.LABEL_INDEX), CODE);
    JavaRDD<LogisticFits.Example> rows = prepared.select(col(Columns.FEATURES), col(Columns.LABEL_INDEX),
            col(Columns.SOURCE)).toJavaRDD()
        .map(r -> new LogisticFits.Example(LogisticFits.design((Vector) r.get(0)), (int) r.getDouble(1),
            index.get(r.getString(2)), 1.0))
        .persist(LogisticFits.storageFor(perSource.stream().mapToLong(r -> r.getLong(1)).sum()));
    double[] sums;
    try {
      int dim = rows.first().x().length;
      // Group s leaves out source s; group `sources` excludes nothing (no row has that index).
      double[][][] weights = LogisticFits.fit(rows, sources + 1, classes, dim, RIDGE).weights();
      sums = lossDifferences(known(fitted.preparer().transform(trusted)), weights, classes);
    } finally {
      rows.unpersist(false);
    }
    double n = sums[3 * sources + 1];
    List<Verdict> verdicts = new ArrayList<>();
    for (int s = 0; s < sources; s++) {
      double mean = sums[s] / n;
      double variance = Math.max(0, sums[sources + s] / n - mean * mean);
      double z = variance > 0 ? mean / Math.sqrt(variance / n) : 0;
      double p = Math.min(1.0, sources * 0.5 * Erf.erfc(z / Math.sqrt(2)));
      Row r = perSource.get(s);
      double lossWith = sums[3 * sources] / n;
      double lossWithout = sums[2 * sources + s] / n;
      verdicts.add(new Verdict(r.getString(0), r.getLong(1), lossWith, lossWithout, z, p,
          flags(lossWith, lossWithout, p, targetFpr)));
    }
    return verdicts;
  }

  /**
   * Whether a source is flagged: leaving it out lowers the mean trusted loss significantly ({@code pValue}, corrected,
   * at most {@code targetFpr}) and by at least {@link #MIN_LOSS_SAVING} of the loss with every source.
   */
  static boolean flags(double lossWith, double lossWithout, double pValue, double targetFpr) {
    return pValue <= targetFpr && lossWith - lossWithout >= MIN_LOSS_SAVING * lossWith;
  }

  /** Prepared rows with a known class (rows of an unknown class have no loss). */
  private static Dataset<Row> known(Dataset<Row> prepared) {
    return prepared.where(col(Columns.LABEL_INDEX).isNotNull().and(not(isnan(col(Columns.LABEL_INDEX)))));
  }

  /**
   * One pass over the trusted rows. Layout for S sources: [0, S) Σd_s; [S, 2S) Σd_s²; [2S, 3S) Σloss without
   * s; 3S Σloss with all; 3S+1 rows.
   */
  private static double[] lossDifferences(Dataset<Row> trusted, double[][][] weights, int classes) {
    int sources = weights.length - 1;
    JavaRDD<Row> rows = trusted.select(col(Columns.FEATURES), col(Columns.LABEL_INDEX)).toJavaRDD();
    return OrderedAggregate.of(rows, new double[3 * sources + 2], (acc, r) -> {
      double[] x = LogisticFits.design((Vector) r.get(0));
      int label = (int) r.getDouble(1);
      double all = loss(weights[sources], x, label, classes);
      for (int s = 0; s < sources; s++) {
        double without = loss(weights[s], x, label, classes);
        double d = all - without;
        acc[s] += d;
        acc[sources + s] += d * d;
        acc[2 * sources + s] += without;
      }
      acc[3 * sources] += all;
      acc[3 * sources + 1] += 1;
      return acc;
    }, (a, b) -> {
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      return a;
    });
  }

  private static double loss(double[][] models, double[] x, int label, int classes) {
    return -Math.log(Math.max(MIN_PROBABILITY, LogisticFits.probabilities(models, x, classes)[label]));
  }
}
