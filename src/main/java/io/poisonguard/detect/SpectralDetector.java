package io.poisonguard.detect;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Spectral signatures per class: poison that pulls a class one way (a backdoor trigger, a block of flipped
 * rows) leaves its mark on the top direction of that class's covariance, and its rows project far along it.
 *
 * <p>Two views of each row are examined, per class: its log-compressed prepared features, and its gradient of
 * the logistic loss at a ridge logistic model fitted on the fit data (Sever's view: poison that moves the model
 * has gradients that agree with each other). For each view and class the mean and covariance come from one
 * aggregation ({@link ClassMoments}); the top eigenvector v and eigenvalue λ from power iteration on
 * the driver (seeded start). A row's score is the larger over the two views of its squared centred projection
 * over λ, ((r − μ)·v)² / λ: about 1 for a typical row, large for the rows that make the direction.
 * Evidence: {@code view=gradient,projection=6.1} (projection in standard deviations along v, signed).
 *
 * <p>Cost: the logistic fit (about ten passes at {@code classModels × (d+1)²} per row), then one pass at
 * {@code 2 × (d+1)²} per row; driver memory {@code 2 × classes × (d+1)²} doubles. Transform is {@code O(d)}
 * per row. Classes with fewer than {@value SpectralModel#MIN_CLASS_ROWS} fit rows, and rows of unknown class,
 * score NaN.
 */
public final class SpectralDetector extends DetectorEstimator<SpectralModel> {
  /** Reason code and registry name. */
  public static final String CODE = "spectral";

  private final DoubleParam ridge;
  private final LongParam seed;

  /** A detector with a generated uid. */
  public SpectralDetector() {
    this(Identifiable.randomUID("pgSpectral"));
  }

  /** A detector with the given uid (used by copy and load). */
  public SpectralDetector(String uid) {
    super(uid);
    ridge = new DoubleParam(this, "ridge", "L2 penalty per row of the logistic model behind the gradient view",
        ParamValidators.gt(0));
    seed = new LongParam(this, "seed", "seed of the power iteration's start vector");
    setDefault(ridge, 1e-3);
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

  public DoubleParam ridge() {
    return ridge;
  }

  public LongParam seed() {
    return seed;
  }

  public double getRidge() {
    return (Double) getOrDefault(ridge);
  }

  public long getSeed() {
    return (Long) getOrDefault(seed);
  }

  public SpectralDetector setRidge(double value) {
    set(ridge, value);
    return this;
  }

  public SpectralDetector setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  protected SpectralModel fitStatistics(Dataset<?> dataset) {
    Dataset<Row> labelled = LabelConsistencyDetector.labelledRows(dataset, getFeaturesCol(), getLabelCol());
    int classes = LabelConsistencyDetector.classCount(labelled, LogisticFits.classNames(dataset, getLabelCol()), CODE);
    JavaRDD<LogisticFits.Example> rows = SharedLogisticFit.examples(labelled);
    try {
      int dim = rows.first().x().length;
      double[][] weights = SharedLogisticFit.of(dataset, getFeaturesCol(), getLabelCol(), getRidge(),
          () -> LogisticFits.fit(rows, 1, classes, dim, getRidge())).weights()[0];
      int views = SpectralModel.VIEWS.size();
      int[] dims = new int[views];
      for (int v = 0; v < views; v++) {
        dims[v] = SpectralModel.viewLength(v, dim);
      }
      List<ClassMoments.View> functions = List.of(
          (x, label) -> SpectralModel.view(0, weights, x, label),
          (x, label) -> SpectralModel.view(1, weights, x, label));
      ClassMoments moments = ClassMoments.of(rows, classes, functions, dims);
      double[][][] scales = new double[views][classes][];
      double[][][] directions = new double[views][classes][];
      double[][] eigenvalues = new double[views][classes];
      for (int v = 0; v < views; v++) {
        for (int c = 0; c < classes; c++) {
          scales[v][c] = ClassMoments.standardDeviations(moments.covariance()[v][c], dims[v]);
          double[] correlation = ClassMoments.correlation(moments.covariance()[v][c], scales[v][c]);
          ClassMoments.Eigen top = ClassMoments.top(correlation, dims[v], getSeed() + 31L * v + c);
          directions[v][c] = top.vector();
          eigenvalues[v][c] = top.value();
        }
      }
      return new SpectralModel(uid(), new SpectralModel.State(classes, weights, moments.count(), moments.mean(),
          scales, directions, eigenvalues));
    } finally {
      rows.unpersist(false);
    }
  }

  /** Reader for saved detectors (also found by {@code Pipeline} load through reflection). */
  public static MLReader<SpectralDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static SpectralDetector load(String path) {
    return read().load(path);
  }
}
