package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Robust Mahalanobis distance per class: how far a row lies from the core of its own class, measured in that
 * core's own covariance, so a row whose features are each plausible but whose combination is not (a trigger,
 * a point moved against the class's correlations) stands out.
 *
 * <p>Fit: a seeded sample of at most {@code maxSampleRows} rows per class ({@link SeededDraw}, after one count
 * per class) is brought to the driver, the size limit that bounds driver memory; per class a minimum-covariance-
 * determinant style core of {@code support} of the sample ({@link RobustCovariance}: concentration steps from
 * several seeded starts) gives the location and scatter, so poison outside the core does not shape them. Each
 * feature's scatter is shrunk towards 5% of its whole-sample variance so sparse features stay invertible; the
 * scatter is rescaled so the median squared distance matches the chi-square median. Transform: the squared
 * distance (log-compressed prepared features, one triangular solve per row, {@code O(d²)}), calibrated on a
 * log scale. Evidence: {@code feature=capitalAve,distance=41.2} (the feature with the largest term of the
 * squared distance; the distance in units of the class's spread). Classes with fewer than d + 2 sampled rows,
 * and rows of unknown class, score NaN.
 */
public final class MahalanobisDetector extends DetectorEstimator<MahalanobisModel> {
  /** Reason code and registry name. */
  public static final String CODE = "mahalanobis";

  private final IntParam maxSampleRows;
  private final DoubleParam support;
  private final LongParam seed;

  /** A detector with a generated uid. */
  public MahalanobisDetector() {
    this(Identifiable.randomUID("pgMahalanobis"));
  }

  /** A detector with the given uid (used by copy and load). */
  public MahalanobisDetector(String uid) {
    super(uid);
    maxSampleRows = new IntParam(this, "maxSampleRows", "largest sample per class brought to the driver",
        ParamValidators.gtEq(10));
    support = new DoubleParam(this, "support", "share of the sample in the robust core, in (0.5, 1]",
        ParamValidators.inRange(0.5, 1.0, false, true));
    seed = new LongParam(this, "seed", "seed of the sample and of the starts");
    setDefault(maxSampleRows, 2000);
    setDefault(support, 0.75);
    setDefault(seed, 42L);
  }

  @Override
  public String reasonCode() {
    return CODE;
  }

  @Override
  public boolean unboundedScore() {
    return true;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  public IntParam maxSampleRows() {
    return maxSampleRows;
  }

  public DoubleParam support() {
    return support;
  }

  public LongParam seed() {
    return seed;
  }

  public int getMaxSampleRows() {
    return (Integer) getOrDefault(maxSampleRows);
  }

  public double getSupport() {
    return (Double) getOrDefault(support);
  }

  public long getSeed() {
    return (Long) getOrDefault(seed);
  }

  public MahalanobisDetector setMaxSampleRows(int value) {
    set(maxSampleRows, value);
    return this;
  }

  public MahalanobisDetector setSupport(double value) {
    set(support, value);
    return this;
  }

  public MahalanobisDetector setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  protected MahalanobisModel fitStatistics(Dataset<?> dataset) {
    Dataset<Row> labelled = dataset.toDF().where(LabelConsistencyDetector.knownClass(getLabelCol()));
    Column label = col(getLabelCol()).cast("double").as(getLabelCol());
    int classes = LabelConsistencyDetector.classCount(labelled.select(col(getFeaturesCol()), label),
        LogisticFits.classNames(dataset, getLabelCol()), CODE);
    Map<Double, Long> classRows = new TreeMap<>();
    // one row per class
    for (Row r : labelled.groupBy(label).count().collectAsList()) {
      classRows.put(r.getDouble(0), r.getLong(1));
    }
    // a sample, not the dataset: about 1.1 × max_sample_rows rows per class reach the driver, cut to
    // max_sample_rows per class below
    List<Row> sample = SeededDraw.drawPerClass(labelled, label, classRows, getMaxSampleRows(), getSeed(), CODE,
        col(getFeaturesCol()), label);
    String[] names = FeatureNames.of(dataset, getFeaturesCol());
    int d = names.length;
    double[][] mean = new double[classes][];
    double[][] factor = new double[classes][];
    for (int c = 0; c < classes; c++) {
      int cls = c;
      double[][] rows = sample.stream().filter(r -> (int) r.getDouble(1) == cls).limit(getMaxSampleRows())
          .map(r -> MahalanobisModel.compressed((Vector) r.getAs(0))).toArray(double[][]::new);
      if (rows.length >= d + 2) {
        RobustCovariance core = RobustCovariance.fit(rows, getSupport(), getSeed() + c);
        mean[c] = core.mean();
        factor[c] = core.factor();
      }
    }
    return new MahalanobisModel(uid(), new MahalanobisModel.State(names, mean, factor));
  }

  /** Reader for saved detectors (also found by {@code Pipeline} load through reflection). */
  public static MLReader<MahalanobisDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static MahalanobisDetector load(String path) {
    return read().load(path);
  }
}
