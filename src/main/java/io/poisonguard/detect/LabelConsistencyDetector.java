package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.udf;

import io.poisonguard.config.ConfigException;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.OrderedAggregate;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.classification.RandomForestClassificationModel;
import org.apache.spark.ml.classification.RandomForestClassifier;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
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
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.sketch.BloomFilter;
import org.apache.spark.util.sketch.IncompatibleMergeException;
import scala.Tuple2;

/**
 * Label consistency by confident learning: does a model that never saw the row agree with its label?
 *
 * <p>Fit: every fit row with a known class falls into one of {@code numFolds} folds by a seeded hash of its
 * near-duplicate group ({@link NearDuplicateHash}), so the assignment is deterministic and independent of
 * partitioning, and copies share a fold: a flood of near-copies with a wrong label cannot vouch for itself,
 * the held-out model judges it by the rest of the data. One ridge
 * logistic model per fold is fitted on the other folds, all folds together in one Spark job per Newton
 * iteration ({@link LogisticFits}). A final pass computes each fit row's out-of-fold self-confidence, giving
 * the per-class thresholds t_c (mean self-confidence of rows labelled c), and a Bloom filter of the fit rows'
 * hashes.
 *
 * <p>Transform: a row the filter knows (a fit row: batch mode, where the batch is its own fit data) is scored
 * by the model of its own fold, which excluded it; any other row by the average of all fold models, each of
 * which is held out for it anyway. A filter false positive (≤ 1% at the capped size, more beyond ~7M fit
 * rows) therefore only swaps the average for one held-out model: it never lets a row score itself. The score
 * is {@link ConfidentMargin}'s threshold-relative log-odds margin; evidence
 * {@code given=spam,predicted=nonspam,p=0.97}. Rows of unknown class score NaN (no evidence).
 *
 * <p>The model is linear on log-compressed features; with {@code numTrees} above 0 a random forest per fold
 * (MLlib, {@code maxDepth}, fitted on the same rows and weights, seeded) sits beside each logistic model and the
 * two models' class probabilities are averaged, for the thresholds and the scores alike: the forest sees
 * non-linear class boundaries (interactions, thresholds) that the logistic model draws straight. Off by default,
 * as measured: fitted on a batch, a forest also learns the region of poison that comes in clusters (clean-label
 * collisions, floods) from the cluster's rows in the other folds, and vouches for them (the benchmark's
 * detection-forests.md: spambase clean-label 0.858 → 0.388, letter label flips 0.971 → 0.993); and it costs
 * {@code numFolds} forest fits, each a few Spark jobs per tree level. Cost of the logistic part: about ten passes
 * over the fit data, each
 * {@code numFolds × (d+1)²} per row; transform is {@code numFolds × d} per row. Driver and per-task
 * memory: {@code numFolds × classModels × (d+1)²} doubles plus a Bloom filter of at most 1 MiB.
 */
public final class LabelConsistencyDetector extends DetectorEstimator<LabelConsistencyModel> {
  /** Reason code and registry name. */
  public static final String CODE = "label_consistency";
  /** Bloom filter size cap in bits (1 MiB), so driver memory does not grow with the fit data. */
  private static final long MAX_FILTER_BITS = 8L << 20;
  /** Near-duplicate tables: a row's weight is one over the size of its largest group among them. */
  private static final int GROUP_TABLES = 3;
  private static final String GROUP_SIZE = Columns.PREFIX + "group_size";
  private static final String ROW_HASH = Columns.PREFIX + "row_hash";
  private static final String FOREST_FEATURES = "features";
  private static final String FOREST_LABEL = "label";
  private static final String FOREST_WEIGHT = "weight";
  private static final String FOREST_FOLD = "fold";

  private final IntParam numFolds;
  private final DoubleParam ridge;
  private final IntParam numTrees;
  private final IntParam maxDepth;
  private final LongParam seed;

  /** A detector with a generated uid. */
  public LabelConsistencyDetector() {
    this(Identifiable.randomUID("pgLabelConsistency"));
  }

  /** A detector with the given uid (used by copy and load). */
  public LabelConsistencyDetector(String uid) {
    super(uid);
    numFolds = new IntParam(this, "numFolds", "folds of the out-of-fold models (at least 2)",
        ParamValidators.gtEq(2));
    ridge = new DoubleParam(this, "ridge", "per-row L2 penalty of the logistic models (> 0)",
        ParamValidators.gt(0));
    numTrees = new IntParam(this, "numTrees", "trees of a random forest fitted per fold beside the logistic model, "
        + "whose probabilities are averaged with it (0 = the logistic model alone)", ParamValidators.gtEq(0));
    maxDepth = new IntParam(this, "maxDepth", "depth of the forests' trees", ParamValidators.inRange(1, 30));
    seed = new LongParam(this, "seed", "seed of the fold assignment and of the forests");
    setDefault(numFolds, 5);
    setDefault(ridge, 1e-3);
    setDefault(numTrees, 0);
    setDefault(maxDepth, 12);
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

  public IntParam numFolds() {
    return numFolds;
  }

  public DoubleParam ridge() {
    return ridge;
  }

  public IntParam numTrees() {
    return numTrees;
  }

  public IntParam maxDepth() {
    return maxDepth;
  }

  public LongParam seed() {
    return seed;
  }

  public int getNumFolds() {
    return (Integer) getOrDefault(numFolds);
  }

  public double getRidge() {
    return (Double) getOrDefault(ridge);
  }

  public int getNumTrees() {
    return (Integer) getOrDefault(numTrees);
  }

  public int getMaxDepth() {
    return (Integer) getOrDefault(maxDepth);
  }

  public long getSeed() {
    return (Long) getOrDefault(seed);
  }

  public LabelConsistencyDetector setNumFolds(int value) {
    set(numFolds, value);
    return this;
  }

  public LabelConsistencyDetector setRidge(double value) {
    set(ridge, value);
    return this;
  }

  public LabelConsistencyDetector setNumTrees(int value) {
    set(numTrees, value);
    return this;
  }

  public LabelConsistencyDetector setMaxDepth(int value) {
    set(maxDepth, value);
    return this;
  }

  public LabelConsistencyDetector setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  protected LabelConsistencyModel fitStatistics(Dataset<?> dataset) {
    int folds = getNumFolds();
    long seedValue = getSeed();
    Dataset<Row> labelled = labelledRows(dataset, getFeaturesCol(), getLabelCol());
    String[] names = LogisticFits.classNames(dataset, getLabelCol());
    int classes = classCount(labelled, names, CODE);
    NearDuplicateHash groups = NearDuplicateHash.fit(dataset, getFeaturesCol(), GROUP_TABLES,
        NearDuplicateHash.DEFAULT_PROJECTIONS, NearDuplicateHash.DEFAULT_WIDTH, seedValue);
    Column keys = groups.keyColumn(dataset.sparkSession(), col(getFeaturesCol()));
    // Sorted by row hash within each partition so the sums below add up in the same order on every run.
    Dataset<Row> sized = labelled.withColumn(GROUP_SIZE, groups.largestGroup(keys))
        .withColumn(ROW_HASH, rowHash(seedValue).apply(col(getFeaturesCol()), col(getLabelCol())))
        .sortWithinPartitions(ROW_HASH);
    JavaRDD<Tuple2<Long, LogisticFits.Example>> rows = sized.toJavaRDD().map(r -> {
      Vector v = r.getAs(getFeaturesCol());
      double label = r.getAs(getLabelCol());
      long size = r.getAs(GROUP_SIZE);
      return new Tuple2<>(r.<Long>getAs(ROW_HASH), new LogisticFits.Example(
          LogisticFits.design(v), (int) label, groups.fold(v, seedValue, folds), 1.0 / size));
    }).persist(LogisticFits.storageFor(labelled.count()));
    try {
      int dim = rows.first()._2().x().length;
      LogisticFits.Fit fit = LogisticFits.fit(rows.map(Tuple2::_2), folds, classes, dim, getRidge());
      // Every fit row is in the fit set of all folds but its own.
      long total = 0;
      for (long r : fit.rows()) {
        total += r;
      }
      long n = total / (folds - 1);
      long bits = Math.min(BloomFilter.optimalNumOfBits(Math.max(n, 1), 0.01), MAX_FILTER_BITS);
      double[][][] weights = fit.weights();
      List<RandomForestClassificationModel> forests = getNumTrees() == 0 ? List.of()
          : fitForests(dataset.sparkSession(), rows.map(Tuple2::_2), folds, classes);
      // broadcast only when there are forests: the default (logistic models alone) ships nothing more than before
      Broadcast<List<RandomForestClassificationModel>> forestsOnExecutors = forests.isEmpty() ? null
          : JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext()).broadcast(forests);
      OutOfFold zero = new OutOfFold(classes, BloomFilter.create(Math.max(n, 1), bits));
      OutOfFold oof;
      try {
        oof = OrderedAggregate.of(rows, zero, (acc, row) -> {
          LogisticFits.Example ex = row._2();
          double[] p = LabelConsistencyModel.probabilities(weights[ex.exclude()],
              forestsOnExecutors == null ? null : forestsOnExecutors.value().get(ex.exclude()), ex.x(), classes);
          acc.sum[ex.label()] += p[ex.label()];
          acc.count[ex.label()]++;
          acc.seen.putLong(row._1());
          return acc;
        }, OutOfFold::merge, LogisticFits.FAN_IN);
      } finally {
        if (forestsOnExecutors != null) {
          forestsOnExecutors.destroy();
        }
      }
      return new LabelConsistencyModel(uid(), new LabelConsistencyModel.State(folds, seedValue, classes, weights,
          ConfidentMargin.thresholdsAtLeastShares(oof.sum, oof.count), names, encode(oof.seen), groups,
          forests.size()), forests);
    } finally {
      rows.unpersist(false);
    }
  }

  /**
   * One random forest per fold, each fitted on the other folds' rows with the same row weights as the logistic
   * models, on the compressed features (a monotone map of each feature, so the trees split as on the prepared ones).
   * MLlib fits a forest per call, so this is {@code numFolds} fits of a few jobs per tree level each.
   */
  private List<RandomForestClassificationModel> fitForests(SparkSession spark, JavaRDD<LogisticFits.Example> rows,
      int folds, int classes) {
    StructType schema = new StructType()
        .add(FOREST_FEATURES, new VectorUDT(), false)
        .add(FOREST_LABEL, DataTypes.DoubleType, false, NominalAttribute.defaultAttr().withNumValues(classes)
            .toMetadata())
        .add(FOREST_WEIGHT, DataTypes.DoubleType, false)
        .add(FOREST_FOLD, DataTypes.IntegerType, false);
    Dataset<Row> examples = spark.createDataFrame(rows.map(ex -> RowFactory.create(Vectors.dense(ex.x()),
        (double) ex.label(), ex.weight(), ex.exclude())), schema);
    List<RandomForestClassificationModel> forests = new ArrayList<>();
    for (int fold = 0; fold < folds; fold++) {
      forests.add(new RandomForestClassifier().setFeaturesCol(FOREST_FEATURES).setLabelCol(FOREST_LABEL)
          .setWeightCol(FOREST_WEIGHT).setNumTrees(getNumTrees()).setMaxDepth(getMaxDepth())
          .setSeed(getSeed() + fold).fit(examples.where(col(FOREST_FOLD).notEqual(fold))));
    }
    return forests;
  }

  /** {@link LogisticFits#rowHash} as a column function of (features, class index). */
  private static UserDefinedFunction rowHash(long seed) {
    return udf((UDF2<Vector, Double, Long>) (v, label) -> LogisticFits.rowHash(v, label, seed), DataTypes.LongType);
  }

  /** Feature vector and class index of the rows whose class is known. */
  static Dataset<Row> labelledRows(Dataset<?> dataset, String featuresCol, String labelCol) {
    return dataset.toDF().select(col(featuresCol), col(labelCol).cast("double")).where(knownClass(labelCol));
  }

  /** Whether a row's class index is known (neither null nor NaN). */
  static Column knownClass(String labelCol) {
    return col(labelCol).isNotNull().and(not(isnan(col(labelCol).cast("double"))));
  }

  /**
   * Number of classes: from the class names the preparer attached, else one small aggregation.
   *
   * @throws ConfigException when no row has a known class
   */
  static int classCount(Dataset<Row> labelled, String[] names, String code) {
    if (names != null && names.length > 0) {
      return names.length;
    }
    Row top = labelled.agg(max(col(labelled.columns()[1]))).first();
    if (top.isNullAt(0)) {
      throw new ConfigException(code + ": no fit row has a known class; nothing to fit on");
    }
    return (int) top.getDouble(0) + 1;
  }

  private static String encode(BloomFilter filter) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      filter.writeTo(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Base64.getEncoder().encodeToString(out.toByteArray());
  }

  /** Aggregation buffer of the out-of-fold pass. */
  private static final class OutOfFold implements Serializable {
    final double[] sum;
    final long[] count;
    final BloomFilter seen;

    OutOfFold(int classes, BloomFilter seen) {
      sum = new double[classes];
      count = new long[classes];
      this.seen = seen;
    }

    static OutOfFold merge(OutOfFold a, OutOfFold b) {
      for (int c = 0; c < a.sum.length; c++) {
        a.sum[c] += b.sum[c];
        a.count[c] += b.count[c];
      }
      try {
        a.seen.mergeInPlace(b.seen);
      } catch (IncompatibleMergeException e) {
        throw new IllegalStateException("filters of one aggregation have one size", e);
      }
      return a;
    }
  }

  /** Reader for saved detectors (also found by {@code Pipeline} load through reflection). */
  public static MLReader<LabelConsistencyDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static LabelConsistencyDetector load(String path) {
    return read().load(path);
  }
}
