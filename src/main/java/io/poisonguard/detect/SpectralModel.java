package io.poisonguard.detect;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/** A fitted {@link SpectralDetector}: per view and class, the mean and the top covariance direction. */
public final class SpectralModel extends RowScoringModel<SpectralModel> {
  /** The views, in the order of the state's first index. */
  static final List<String> VIEWS = List.of("features", "gradient");
  /** Fewer fit rows than this in a class: no covariance worth the name, the class's rows score NaN. */
  static final int MIN_CLASS_ROWS = 10;
  /** Eigenvalues below this mean a class without spread in that view: no evidence from it. */
  private static final double MIN_EIGENVALUE = 1e-12;

  /**
   * Fitted state.
   *
   * @param classes number of classes
   * @param weights [class model][d+1] the logistic model behind the gradient view
   * @param count [class] fit rows
   * @param mean [view][class][view length]
   * @param scale [view][class][view length] standard deviation of each coordinate (0: constant, ignored)
   * @param direction [view][class][view length] unit top eigenvector of the correlation matrix
   * @param eigenvalue [view][class] its eigenvalue (the variance of standardised rows along it)
   */
  public record State(int classes, double[][] weights, long[] count, double[][][] mean, double[][][] scale,
      double[][][] direction, double[][] eigenvalue) implements Serializable {}

  private final State state;

  SpectralModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  /** Length of view {@code v} for a design vector of length {@code dim} (features + intercept). */
  static int viewLength(int v, int dim) {
    return v == 0 ? dim - 1 : dim;
  }

  /**
   * View {@code v} of a row: 0 = its log-compressed features; 1 = the gradient of its logistic loss under its
   * own class's model, (p − target)·x.
   */
  static double[] view(int v, double[][] weights, double[] x, int label) {
    if (v == 0) {
      return Arrays.copyOf(x, x.length - 1);
    }
    int models = weights.length;
    int m = models == 1 ? 0 : label;
    double r = LogisticFits.sigmoid(LogisticFits.dot(weights[m], x)) - LogisticFits.target(models, m, label);
    double[] g = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      g[i] = r * x[i];
    }
    return g;
  }

  @Override
  public String reasonCode() {
    return SpectralDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    return true;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    return (row, label) -> {
      int c = (int) label;
      if (Double.isNaN(label) || c < 0 || c >= s.classes() || s.count()[c] < MIN_CLASS_ROWS) {
        return new Score(Double.NaN, null);
      }
      double[] x = row.design();
      double best = 0;
      int bestView = 0;
      double bestProjection = 0;
      for (int v = 0; v < VIEWS.size(); v++) {
        double lambda = s.eigenvalue()[v][c];
        if (lambda < MIN_EIGENVALUE) {
          continue;
        }
        double[] r = view(v, s.weights(), x, c);
        double[] mu = s.mean()[v][c];
        double[] sd = s.scale()[v][c];
        double[] u = s.direction()[v][c];
        double projection = 0;
        for (int i = 0; i < r.length; i++) {
          if (sd[i] > 0) {
            projection += (r[i] - mu[i]) / sd[i] * u[i];
          }
        }
        double score = projection * projection / lambda;
        if (score > best) {
          best = score;
          bestView = v;
          bestProjection = projection / Math.sqrt(lambda);
        }
      }
      String view = VIEWS.get(bestView);
      double projection = bestProjection;
      return new Score(best, () -> "view=" + view + ",projection=" + Evidence.signed(projection, 2));
    };
  }

  @Override
  public SpectralModel copy(ParamMap extra) {
    return copyValues(new SpectralModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<SpectralModel> read() {
    return StateIO.reader(SpectralModel.class, State.class, SpectralModel::new);
  }

  /** Loads a saved model. */
  public static SpectralModel load(String path) {
    return read().load(path);
  }
}
