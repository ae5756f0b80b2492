package io.poisonguard.detect;

import io.poisonguard.config.ConfigException;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * k-nearest-neighbour label disagreement: do the row's nearest fit rows carry its label?
 *
 * <p>Neighbours are searched exactly, per partition, in a reference pool: the fit rows of known class, or a
 * seeded uniform sample of {@code maxRows} of them when there are more (the size limit: the pool is brought
 * to the driver and broadcast, {@code maxRows × d} doubles). Above the limit every batch row is still scored,
 * against the sample; neighbours are then farther apart, so the score is coarser, not biased. Distances are
 * Euclidean on the log-compressed prepared features ({@link LogisticFits#design}), where a zero-inflated
 * feature's extreme values do not drown all the others. {@link BatchKnnLabelDetector} is the same vote with the
 * batch's rows in the pool, for fits on trusted data.
 *
 * <p>A row is never its own neighbour, nor are its near-copies: pool rows that share a key with it in any of
 * {@value #GROUP_TABLES} {@link NearDuplicateHash} tables are skipped, so in batch mode a row scores against
 * the others and a flood of copies cannot vouch for itself (copies that disagree on the label are the
 * duplicates detector's concern). The neighbour
 * shares per class go through {@link ConfidentMargin} with thresholds t_c = the mean own-class share of the
 * pool rows of class c (each against the rest of the pool, computed on the driver at fit). Evidence:
 * {@code given=spam,predicted=nonspam,p=0.83} (p = the predicted class's Laplace-smoothed share of the k neighbours).
 *
 * <p>Cost: fit reads the data three times (count, sample, feature spreads for the hash) and spends
 * {@code maxRows² × d} on the driver for the thresholds; transform costs {@code maxRows} multiply-adds per row and
 * nonzero feature, a single-precision product against the pool ({@link PoolProduct}, vectorised when the JDK's
 * vector module is present), then a scan of the {@code maxRows} distances for the top k. Lower {@code maxRows} (or
 * disable) where that is too much.
 */
public class KnnLabelDetector extends DetectorEstimator<KnnLabelModel> {
  /** Reason code and registry name. */
  public static final String CODE = "knn_label";
  /** Near-duplicate tables used to recognise a row's copies: more tables catch noisier copies. */
  static final int GROUP_TABLES = 5;
  /** Twice the duplicates detector's grid: a copy must be skipped even when the noise moved it a little. */
  static final double GROUP_WIDTH = 2 * NearDuplicateHash.DEFAULT_WIDTH;

  /** Largest {@code maxRows}: 100,000 rows of 100 features are 80 MB collected (doubles), 40 MB broadcast (floats). */
  static final int MAX_POOL = 100_000;
  private final IntParam numNeighbors;
  private final IntParam maxRows;
  private final LongParam seed;

  /** A detector with a generated uid. */
  public KnnLabelDetector() {
    this(Identifiable.randomUID("pgKnnLabel"));
  }

  /** A detector with the given uid (used by copy and load). */
  public KnnLabelDetector(String uid) {
    super(uid);
    numNeighbors = new IntParam(this, "numNeighbors", "neighbours per row (k)", ParamValidators.gtEq(1));
    // the pool is collected and broadcast: capped so that a setting cannot bring the fit rows to the driver
    maxRows = new IntParam(this, "maxRows", "largest reference pool; larger fit data is sampled down to it",
        ParamValidators.inRange(2, MAX_POOL));
    seed = new LongParam(this, "seed", "seed of the pool sample and the near-duplicate hash");
    setDefault(numNeighbors, 10);
    setDefault(maxRows, 5000);
    setDefault(seed, 42L);
  }

  @Override
  public String reasonCode() {
    return CODE;
  }

  @Override
  public boolean unboundedScore() {
    return false;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  public IntParam numNeighbors() {
    return numNeighbors;
  }

  public IntParam maxRows() {
    return maxRows;
  }

  public LongParam seed() {
    return seed;
  }

  public int getNumNeighbors() {
    return (Integer) getOrDefault(numNeighbors);
  }

  public int getMaxRows() {
    return (Integer) getOrDefault(maxRows);
  }

  public long getSeed() {
    return (Long) getOrDefault(seed);
  }

  public KnnLabelDetector setNumNeighbors(int value) {
    set(numNeighbors, value);
    return this;
  }

  public KnnLabelDetector setMaxRows(int value) {
    set(maxRows, value);
    return this;
  }

  public KnnLabelDetector setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  protected KnnLabelModel fitStatistics(Dataset<?> dataset) {
    NearDuplicateHash groups = NearDuplicateHash.fit(dataset, getFeaturesCol(), GROUP_TABLES,
        NearDuplicateHash.DEFAULT_PROJECTIONS, GROUP_WIDTH, getSeed());
    LabelledPool drawn = LabelledPool.draw(dataset, getFeaturesCol(), getLabelCol(), getMaxRows(), groups, getSeed(),
        CODE);
    double[][] pool = drawn.design();
    int[] label = drawn.labels();
    long[][] keys = drawn.keys();
    int classes = drawn.classes();
    String[] names = drawn.classNames();
    int m = pool.length;
    KnnLabelModel.State partial = new KnnLabelModel.State(getNumNeighbors(), classes, pool, label, groups, keys,
        new double[classes], names);
    // Thresholds: each pool row's own-class share among its neighbours in the rest of the pool.
    double[] sum = new double[classes];
    long[] count = new long[classes];
    KnnLabelModel.Search search = new KnnLabelModel.Search(partial);
    for (int i = 0; i < m; i++) {
      double[] share = search.shares(pool[i], keys[i]);
      sum[label[i]] += share[label[i]];
      count[label[i]]++;
    }
    return model(uid(), new KnnLabelModel.State(getNumNeighbors(), classes, pool, label, groups, keys,
        ConfidentMargin.thresholds(sum, count), names));
  }

  /** The fitted model of this detector's kind. */
  protected KnnLabelModel model(String uid, KnnLabelModel.State state) {
    return new KnnLabelModel(uid, state);
  }

  /**
   * Reader for saved detectors (also found by {@code Pipeline} load through reflection); it builds the class the
   * saved metadata names, so it reads the subclasses too.
   */
  public static MLReader<KnnLabelDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static KnnLabelDetector load(String path) {
    return read().load(path);
  }
}
