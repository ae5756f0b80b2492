package io.poisonguard.detect;

import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Isolation forest (Liu, Ting and Zhou, 2008) on the prepared features: rows that random axis-parallel splits
 * isolate in few steps are outliers. Trees are grown on the driver from one seeded sample of at most
 * {@code numTrees × maxSamples} rows, so fitting costs one sampling pass whatever the data size.
 */
public final class IsolationForestDetector extends DetectorEstimator<IsolationForestModel> {
  /** Reason code. */
  public static final String CODE = "isolation_forest";
  private final IntParam numTrees;
  private final IntParam maxSamples;

  /** A detector with a random uid. */
  public IsolationForestDetector() {
    this(Identifiable.randomUID(CODE));
  }

  /** A detector with the given uid. */
  public IsolationForestDetector(String uid) {
    super(uid);
    numTrees = new IntParam(this, "numTrees", "number of trees (> 0)", ParamValidators.gtEq(1));
    maxSamples = new IntParam(this, "maxSamples", "sample rows per tree (> 1)", ParamValidators.gtEq(2));
    setDefault(numTrees, 100);
    setDefault(maxSamples, 256);
  }

  @Override
  public String reasonCode() {
    return CODE;
  }

  /** Number of trees. */
  public IntParam numTrees() {
    return numTrees;
  }

  /** Sample rows per tree. */
  public IntParam maxSamples() {
    return maxSamples;
  }

  @Override
  protected IsolationForestModel fitPrepared(Dataset<Row> prepared) {
    int trees = (Integer) getOrDefault(numTrees);
    int perTree = (Integer) getOrDefault(maxSamples);
    long seed = (Long) getOrDefault(seed());
    Dataset<Row> vectors = prepared.select(getOrDefault(featuresCol()));
    long n = vectors.count();
    long wanted = Math.min(n, (long) trees * perTree);
    // oversample a little so the seeded Bernoulli sample rarely falls short, then cut to size
    double fraction = Math.min(1.0, 1.2 * wanted / Math.max(1, n));
    List<Row> sampled = vectors.sample(false, fraction, seed).limit((int) wanted).collectAsList();
    double[][] sample = sampled.stream().map(r -> r.<Vector>getAs(0).toArray()).toArray(double[][]::new);
    int size = Math.min(perTree, sample.length);
    int maxDepth = (int) Math.ceil(Math.log(Math.max(2, size)) / Math.log(2));
    SplittableRandom random = new SplittableRandom(seed);
    IsolationTree[] forest = new IsolationTree[trees];
    for (int t = 0; t < trees; t++) {
      double[][] treeRows = new double[size][];
      // a partial Fisher–Yates shuffle picks this tree's rows without replacement
      int[] order = java.util.stream.IntStream.range(0, sample.length).toArray();
      for (int i = 0; i < size; i++) {
        int k = i + random.nextInt(sample.length - i);
        int tmp = order[i];
        order[i] = order[k];
        order[k] = tmp;
        treeRows[i] = sample[order[i]];
      }
      forest[t] = IsolationTree.grow(treeRows, maxDepth, random.split());
    }
    return new IsolationForestModel(uid(), new IsolationForestModel.State(forest, size));
  }

  /** Reader for saved detectors. */
  public static MLReader<IsolationForestDetector> read() {
    return ModelState.reader(java.util.Map.class, (uid, state) -> new IsolationForestDetector(uid));
  }

  /** Loads a saved detector. */
  public static IsolationForestDetector load(String path) {
    return read().load(path);
  }
}
