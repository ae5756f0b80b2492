package io.poisonguard.detect;

import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;

/**
 * Data valuation: each row's KNN-Shapley value for a k-nearest-neighbour classifier judged on the reference rows
 * (the trusted sample when one is given, else the batch), negated so that a row that harms that classifier scores
 * high. Off unless the pipeline enables it ({@code knn_shapley: {enabled: true}}).
 *
 * <p>Validation rows: the fit rows of known class, or a seeded sample of {@code maxRows} of them
 * ({@link LabelledPool}, the size limit). For each validation row v the game is the k-NN classifier's accuracy on v
 * ({@code (1/k) × the number of the k nearest players that carry v's label}), and its players are v's
 * {@code truncation} nearest other validation rows plus the row being valued. The row's Shapley value in that game
 * follows exactly from its rank r among the players (Jia et al., "Efficient task-specific data valuation for
 * nearest neighbor algorithms", 2019): with c_m = min(k, m) / (k·m) and a_m = 1 when the player at rank m carries v's
 * label, s = a_r·c_r − Σ_{m > max(r, k)} a_m / (m(m−1)). The row's value is the mean of s over the validation rows,
 * its score −value. A row that is not nearer to v than v's {@code truncation}-th nearest validation row is no player
 * of v's game and gets 0 there: in the game over all validation rows its value there would be at most
 * 1 / {@code truncation} in absolute terms. With fewer than {@code truncation} + 1 validation rows nothing is
 * truncated and the values are exact. Validation rows that share a near-duplicate key with the row are left out
 * ({@link NeighbourPool}), so in batch mode a row and its copies do not value themselves.
 *
 * <p>Unlike {@link KnnLabelDetector}, which asks whether the row's own neighbours carry its label, this asks whether
 * the row would mislead the neighbours' vote for the rows near it: a flipped or colliding row in a dense region of
 * another class has a negative value, a row far from every validation row has a value near 0 (it changes no vote).
 * Evidence: {@code value=-0.00123,misleads=4}, the value and the number of validation rows among whose k nearest
 * players the row would vote against their label.
 *
 * <p>Cost: fit brings the validation rows to the driver ({@code maxRows × (d + 1)} doubles) and ranks each one's
 * neighbours among the others ({@code maxRows² × d}); the model holds {@code maxRows × truncation} distances and
 * values. Transform: {@code maxRows} multiply-adds per row and nonzero feature (the product of
 * {@link KnnLabelDetector}), then a binary search in the lists of the validation rows the row is a player of.
 */
public final class KnnShapleyDetector extends DetectorEstimator<KnnShapleyModel> {
  /** Reason code and registry name. */
  public static final String CODE = "knn_shapley";

  private final IntParam numNeighbors;
  private final IntParam maxRows;
  private final IntParam truncation;
  private final LongParam seed;

  /** A detector with a generated uid. */
  public KnnShapleyDetector() {
    this(Identifiable.randomUID("pgKnnShapley"));
  }

  /** A detector with the given uid (used by copy and load). */
  public KnnShapleyDetector(String uid) {
    super(uid);
    numNeighbors = new IntParam(this, "numNeighbors", "neighbours of the valued classifier (k)",
        ParamValidators.gtEq(1));
    maxRows = new IntParam(this, "maxRows", "most validation rows; larger fit data is sampled down to it",
        ParamValidators.inRange(2, 20_000));
    truncation = new IntParam(this, "truncation", "players of each validation row's game besides the row valued: "
        + "its nearest validation rows (at least k)", ParamValidators.gtEq(1));
    seed = new LongParam(this, "seed", "seed of the validation sample and the near-duplicate hash");
    setDefault(numNeighbors, 10);
    setDefault(maxRows, 2000);
    setDefault(truncation, 100);
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

  /** Off by default: a valuation against the reference costs about as much as {@link KnnLabelDetector}. */
  @Override
  public boolean enabledByDefault() {
    return false;
  }

  public IntParam numNeighbors() {
    return numNeighbors;
  }

  public IntParam maxRows() {
    return maxRows;
  }

  public IntParam truncation() {
    return truncation;
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

  public int getTruncation() {
    return (Integer) getOrDefault(truncation);
  }

  public long getSeed() {
    return (Long) getOrDefault(seed);
  }

  public KnnShapleyDetector setNumNeighbors(int value) {
    set(numNeighbors, value);
    return this;
  }

  public KnnShapleyDetector setMaxRows(int value) {
    set(maxRows, value);
    return this;
  }

  public KnnShapleyDetector setTruncation(int value) {
    set(truncation, value);
    return this;
  }

  public KnnShapleyDetector setSeed(long value) {
    set(seed, value);
    return this;
  }

  @Override
  protected KnnShapleyModel fitStatistics(Dataset<?> dataset) {
    NearDuplicateHash groups = NearDuplicateHash.fit(dataset, getFeaturesCol(), KnnLabelDetector.GROUP_TABLES,
        NearDuplicateHash.DEFAULT_PROJECTIONS, KnnLabelDetector.GROUP_WIDTH, getSeed());
    LabelledPool validation = LabelledPool.draw(dataset, getFeaturesCol(), getLabelCol(), getMaxRows(), groups,
        getSeed(), CODE);
    int k = getNumNeighbors();
    int m = validation.design().length;
    int players = Math.min(m - 1, Math.max(getTruncation(), k));
    NeighbourPool pool = new NeighbourPool(validation.design(), validation.keys());
    double[][] distances = new double[m][];
    double[][] tails = new double[m][];
    for (int v = 0; v < m; v++) {
      double[] x = validation.design()[v];
      float[] closeness = pool.closeness(x, null);
      closeness[v] = Float.NEGATIVE_INFINITY;
      int[] nearest = KnnLabelModel.Search.nearest(closeness, m, players);
      double norm = NeighbourPool.squaredNorm(x);
      distances[v] = new double[players];
      boolean[] agrees = new boolean[players];
      for (int t = 0; t < players; t++) {
        distances[v][t] = norm - 2.0 * closeness[nearest[t]];
        agrees[t] = validation.labels()[nearest[t]] == validation.labels()[v];
      }
      tails[v] = KnnShapleyModel.tails(agrees, k);
    }
    return new KnnShapleyModel(uid(), new KnnShapleyModel.State(k, validation.design(), validation.labels(), groups,
        validation.keys(), distances, tails, players < m - 1));
  }

  /** Reader for saved detectors (also found by {@code Pipeline} load through reflection). */
  public static MLReader<KnnShapleyDetector> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads a saved detector. */
  public static KnnShapleyDetector load(String path) {
    return read().load(path);
  }
}
