package io.poisonguard.detect;

import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;

/**
 * Duplicates with conflicting labels: a row whose label is outvoted by its identical or near-identical copies
 * ({@link NearDuplicateHash}). At most one label of such a group is right, and the group's majority is the
 * best evidence of which.
 *
 * <p>A row's score in one hash table is the number of other members of its group that carry another label,
 * when they outnumber the members that share its label (itself included), else 0; its score is the highest
 * over the tables. Ties (a pair that disagrees) score 0: they say that one of the two is wrong, not which, and
 * the label-aware detectors judge them better. Groups that agree on their label score 0 whatever their size:
 * real data holds large natural duplicate groups (Spambase has 69 identical all-zero rows, all with one label;
 * one of its 4601 rows is outvoted by its near-copies). Evidence: {@code group=12,conflicting=9}.
 *
 * <p>The default grid is fine (8 projections of width 0.01 spread units in one table): a near-copy must be
 * within about 0.3% of every feature's spread. Coarser grids group ordinary neighbours of sparse data and
 * turn every mixed neighbourhood into a "conflict". A flood of near-copies that all carry a wrong label
 * outvotes the row it copies, so here only that original scores; what gives the flood away is that the
 * copies cannot vouch for each other: {@link LabelConsistencyDetector} weighs each row by one over its
 * near-duplicate group's size and assigns folds by group, and {@link KnnLabelDetector} skips neighbours of
 * the same group, so both judge the copies by the rest of the data.
 *
 * <p>Fit: the hash (one quantile pass). Transform: one narrow shuffle of a key and a label per row and table
 * (counts per group and label), then a broadcast lookup of the outvoted keys (see {@link DuplicateModel}).
 * Counts are within the data being transformed, so a trusted fit sets the grid, not the groups.
 */
public final class DuplicateDetector extends DetectorEstimator<DuplicateModel> {
  /** Reason code and registry name. */
  public static final String CODE = "duplicates";
  /** Grid width in spread units: copies within ~0.3% of every feature's spread share a cell. */
  static final double DEFAULT_WIDTH = 0.01;
  /** Directions of the one default table. */
  static final int DEFAULT_PROJECTIONS = 8;

  private final IntParam numTables;
  private final IntParam numProjections;
  private final DoubleParam bucketWidth;
  private final LongParam seed;

  /** A detector with a generated uid. */
  public DuplicateDetector() {
    this(Identifiable.randomUID("pgDuplicates"));
  }

  /** A detector with the given uid (used by copy and load). */
  public DuplicateDetector(String uid) {
    super(uid);
    numTables = new IntParam(this, "numTables", "independent hash tables", ParamValidators.inRange(1, 16));
    numProjections = new IntParam(this, "numProjections", "random directions per table",
        ParamValidators.inRange(1, 32));
    bucketWidth = new DoubleParam(this, "bucketWidth", "group cell width, in 5-95% spreads of the features",
        ParamValidators.gt(0));
    seed = new LongParam(this, "seed", "seed of the random directions and grid offsets");
    setDefault(numTables, 1);
    setDefault(numProjections, DEFAULT_PROJECTIONS);
    setDefault(bucketWidth, DEFAULT_WIDTH);
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

  public IntParam numTables() {
    return numTables;
  }

  public IntParam numProjections() {
    return numProjections;
  }

  public DoubleParam bucketWidth() {
    return bucketWidth;
  }

  public LongParam seed() {
    return seed;
  }

  public int getNumTables() {
    return (Integer) getOrDefault(numTables);
  }

  public int getNumProjections() {
    return (Integer) getOrDefault(numProjections);
  }

  public double getBucketWidth() {
    return (Double) getOrDefault(bucketWidth);
  }

  public long getSeed() {
    return (Long) getOrDefault(seed);
  }

  public DuplicateDetector setNumTables(int value) {
    set(numTables, value);
    return this;
  }

  public DuplicateDetector setNumProjections(int value) {
    set(numProjections, value);
    return this;
  }

  public DuplicateDetector setBucketWidth(double value) {
    set(bucketWidth, value);
    return this;
  }

  public DuplicateDetector setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  protected DuplicateModel fitStatistics(Dataset<?> dataset) {
    return new DuplicateModel(uid(), NearDuplicateHash.fit(dataset, getFeaturesCol(), getNumTables(),
        getNumProjections(), getBucketWidth(), getSeed()));
  }

  /** Reader for saved detectors (also found by {@code Pipeline} load through reflection). */
  public static MLReader<DuplicateDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static DuplicateDetector load(String path) {
    return read().load(path);
  }
}
