package io.poisonguard.detect;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.ml.linalg.Vector;

/**
 * One isolation tree in flat arrays (node i: split feature and threshold, or a leaf with the number of sample
 * rows that reached it). Grown on a small sample on the driver, then shipped to executors with the model.
 *
 * @param feature split feature per node, -1 for a leaf
 * @param threshold split threshold per node (go left when value &lt; threshold)
 * @param left left child per node
 * @param right right child per node
 * @param leafSize sample rows in each leaf (0 for internal nodes)
 */
public record IsolationTree(int[] feature, double[] threshold, int[] left, int[] right, int[] leafSize)
    implements Serializable {

  /** Grows a tree on {@code sample} rows, splitting until one row is left or {@code maxDepth} is reached. */
  static IsolationTree grow(double[][] sample, int maxDepth, SplittableRandom random) {
    Builder b = new Builder();
    int[] rows = new int[sample.length];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = i;
    }
    b.grow(sample, rows, 0, rows.length, 0, maxDepth, random);
    return b.build();
  }

  /** Path length of {@code x}: edges to its leaf plus the expected remaining depth of the leaf's rows. */
  double pathLength(Vector x) {
    int node = 0;
    int depth = 0;
    while (feature[node] >= 0) {
      node = x.apply(feature[node]) < threshold[node] ? left[node] : right[node];
      depth++;
    }
    return depth + averagePathLength(leafSize[node]);
  }

  /** Expected path length of an unsuccessful search in a binary search tree of {@code n} rows: c(n). */
  static double averagePathLength(long n) {
    if (n <= 1) {
      return 0;
    }
    if (n == 2) {
      return 1;
    }
    return 2 * (Math.log(n - 1.0) + 0.5772156649015329) - 2.0 * (n - 1) / n;
  }

  private static final class Builder {
    private final List<Integer> feature = new ArrayList<>();
    private final List<Double> threshold = new ArrayList<>();
    private final List<Integer> left = new ArrayList<>();
    private final List<Integer> right = new ArrayList<>();
    private final List<Integer> leafSize = new ArrayList<>();

    private int node() {
      feature.add(-1);
      threshold.add(0.0);
      left.add(-1);
      right.add(-1);
      leafSize.add(0);
      return feature.size() - 1;
    }

    private int grow(double[][] x, int[] rows, int from, int to, int depth, int maxDepth, SplittableRandom random) {
      int node = node();
      int n = to - from;
      if (n <= 1 || depth >= maxDepth) {
        leafSize.set(node, n);
        return node;
      }
      int d = x[rows[from]].length;
      // features that vary within this node; a constant one cannot split
      int[] candidates = new int[d];
      double[] lo = new double[d];
      double[] hi = new double[d];
      int k = 0;
      for (int j = 0; j < d; j++) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = from; i < to; i++) {
          double v = x[rows[i]][j];
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
        if (max > min) {
          candidates[k] = j;
          lo[k] = min;
          hi[k] = max;
          k++;
        }
      }
      if (k == 0) {
        leafSize.set(node, n);
        return node;
      }
      int pick = random.nextInt(k);
      int j = candidates[pick];
      double t = lo[pick] + random.nextDouble() * (hi[pick] - lo[pick]);
      if (t <= lo[pick]) {
        t = Math.nextUp(lo[pick]);
      }
      int mid = from;
      for (int i = from; i < to; i++) {
        if (x[rows[i]][j] < t) {
          int tmp = rows[mid];
          rows[mid] = rows[i];
          rows[i] = tmp;
          mid++;
        }
      }
      feature.set(node, j);
      threshold.set(node, t);
      int l = grow(x, rows, from, mid, depth + 1, maxDepth, random);
      left.set(node, l);
      int r = grow(x, rows, mid, to, depth + 1, maxDepth, random);
      right.set(node, r);
      return node;
    }

    private IsolationTree build() {
      return new IsolationTree(feature.stream().mapToInt(Integer::intValue).toArray(),
          threshold.stream().mapToDouble(Double::doubleValue).toArray(),
          left.stream().mapToInt(Integer::intValue).toArray(), right.stream().mapToInt(Integer::intValue).toArray(),
          leafSize.stream().mapToInt(Integer::intValue).toArray());
    }
  }
}
