package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;

import io.poisonguard.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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
 * Isolation Forest (Liu, Ting &amp; Zhou 2008) on the prepared features. One seeded sample of at most
 * {@code numTrees × maxSamples} rows, chosen by a hash of each row ({@link SeededDraw}), is brought to the driver
 * (the only data that ever is); each tree is grown there on {@code maxSamples} rows drawn from it without
 * replacement, to height ⌈log2 maxSamples⌉, splitting on a random non-constant feature at a uniform random point.
 * The model is broadcast and scored per partition: score = 2^(−E[h(x)] / c(ψ)) in [0,1], with h the path length
 * plus c(leaf size) for the unexpanded leaf and ψ the per-tree sample size. Evidence: the mean path length, e.g.
 * {@code path=3.1}. Unsupervised: the label is ignored.
 */
public final class IsolationForestDetector extends DetectorEstimator<IsolationForestModel> {
  /** Reason code and registry name. */
  public static final String CODE = "isolation_forest";

  private final IntParam numTrees;
  private final IntParam maxSamples;
  private final LongParam seed;

  /** A detector with a generated uid. */
  public IsolationForestDetector() {
    this(Identifiable.randomUID("pgIsolationForest"));
  }

  /** A detector with the given uid (used by copy and load). */
  public IsolationForestDetector(String uid) {
    super(uid);
    numTrees = new IntParam(this, "numTrees", "number of trees", ParamValidators.gtEq(1));
    maxSamples = new IntParam(this, "maxSamples", "rows per tree", ParamValidators.gtEq(2));
    seed = new LongParam(this, "seed", "random seed of the sample and the splits");
    setDefault(numTrees, 100);
    setDefault(maxSamples, 256);
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
    return false;
  }

  public IntParam numTrees() {
    return numTrees;
  }

  public IntParam maxSamples() {
    return maxSamples;
  }

  public LongParam seed() {
    return seed;
  }

  public int getNumTrees() {
    return (Integer) getOrDefault(numTrees);
  }

  public int getMaxSamples() {
    return (Integer) getOrDefault(maxSamples);
  }

  public long getSeed() {
    return (Long) getOrDefault(seed);
  }

  public IsolationForestDetector setNumTrees(int value) {
    set(numTrees, value);
    return this;
  }

  public IsolationForestDetector setMaxSamples(int value) {
    set(maxSamples, value);
    return this;
  }

  public IsolationForestDetector setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  protected IsolationForestModel fitStatistics(Dataset<?> dataset) {
    String[] names = FeatureNames.of(dataset, getFeaturesCol());
    long rows = dataset.count();
    if (rows == 0) {
      throw new ConfigException(CODE + ": the fit data is empty; nothing to fit on");
    }
    int cap = (int) Math.min((long) getNumTrees() * getMaxSamples(), Integer.MAX_VALUE - 8);
    // the cap bounds driver memory
    List<Row> picked = SeededDraw.draw(dataset, rows, cap, getSeed(), CODE, col(getFeaturesCol()));
    double[][] sample = new double[picked.size()][];
    for (int i = 0; i < sample.length; i++) {
      sample[i] = ((Vector) picked.get(i).get(0)).toArray();
    }
    int psi = Math.min(getMaxSamples(), sample.length);
    int heightLimit = (int) Math.ceil(Math.log(Math.max(psi, 2)) / Math.log(2));
    Random random = new Random(getSeed());
    List<IsolationForestModel.Tree> trees = new ArrayList<>();
    int[] order = new int[sample.length];
    for (int t = 0; t < getNumTrees(); t++) {
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      // Partial Fisher–Yates: the first psi entries are a uniform draw without replacement.
      double[][] treeRows = new double[psi][];
      for (int i = 0; i < psi; i++) {
        int j = i + random.nextInt(order.length - i);
        int swap = order[i];
        order[i] = order[j];
        order[j] = swap;
        treeRows[i] = sample[order[i]];
      }
      trees.add(new TreeBuilder(treeRows, heightLimit, random).build());
    }
    return new IsolationForestModel(uid(),
        new IsolationForestModel.State(names, psi, trees.toArray(new IsolationForestModel.Tree[0])));
  }

  /** Grows one isolation tree into flat arrays (compact to broadcast and to save). */
  private static final class TreeBuilder {
    private final double[][] rows;
    private final int heightLimit;
    private final Random random;
    private final List<Integer> feature = new ArrayList<>();
    private final List<Double> split = new ArrayList<>();
    private final List<Integer> left = new ArrayList<>();
    private final List<Integer> right = new ArrayList<>();
    private final List<Integer> size = new ArrayList<>();

    TreeBuilder(double[][] rows, int heightLimit, Random random) {
      this.rows = rows;
      this.heightLimit = heightLimit;
      this.random = random;
    }

    IsolationForestModel.Tree build() {
      int[] all = new int[rows.length];
      for (int i = 0; i < all.length; i++) {
        all[i] = i;
      }
      grow(all, 0);
      return new IsolationForestModel.Tree(feature.stream().mapToInt(Integer::intValue).toArray(),
          split.stream().mapToDouble(Double::doubleValue).toArray(),
          left.stream().mapToInt(Integer::intValue).toArray(),
          right.stream().mapToInt(Integer::intValue).toArray(),
          size.stream().mapToInt(Integer::intValue).toArray());
    }

    private int grow(int[] members, int depth) {
      int node = feature.size();
      feature.add(-1);
      split.add(0.0);
      left.add(-1);
      right.add(-1);
      size.add(members.length);
      if (depth >= heightLimit || members.length <= 1) {
        return node;
      }
      int dim = rows[members[0]].length;
      double[] min = new double[dim];
      double[] max = new double[dim];
      List<Integer> candidates = new ArrayList<>();
      for (int f = 0; f < dim; f++) {
        min[f] = Double.POSITIVE_INFINITY;
        max[f] = Double.NEGATIVE_INFINITY;
        for (int m : members) {
          min[f] = Math.min(min[f], rows[m][f]);
          max[f] = Math.max(max[f], rows[m][f]);
        }
        if (max[f] > min[f] && Double.isFinite(max[f] - min[f])) {
          candidates.add(f);
        }
      }
      // Only non-constant features can separate rows; with none left the node is a leaf of duplicates.
      if (candidates.isEmpty()) {
        return node;
      }
      int f = candidates.get(random.nextInt(candidates.size()));
      double at = min[f] + random.nextDouble() * (max[f] - min[f]);
      int below = 0;
      for (int m : members) {
        if (rows[m][f] < at) {
          below++;
        }
      }
      int[] low = new int[below];
      int[] high = new int[members.length - below];
      int li = 0;
      int hi = 0;
      for (int m : members) {
        if (rows[m][f] < at) {
          low[li++] = m;
        } else {
          high[hi++] = m;
        }
      }
      feature.set(node, f);
      split.set(node, at);
      left.set(node, grow(low, depth + 1));
      right.set(node, grow(high, depth + 1));
      return node;
    }
  }

  /** Reader for saved detectors (also found by {@code Pipeline} load through reflection). */
  public static MLReader<IsolationForestDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static IsolationForestDetector load(String path) {
    return read().load(path);
  }
}
