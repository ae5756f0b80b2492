package io.poisonguard.detect;

import io.poisonguard.spark.SortedSearch;
import java.io.Serializable;
import java.util.Locale;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;

/**
 * A fitted {@link KnnShapleyDetector}: the validation rows, and for each one its nearest other validation rows
 * (the other players of its game) as sorted distances, with the part of a player's Shapley value that the players
 * behind it decide.
 */
public final class KnnShapleyModel extends RowScoringModel<KnnShapleyModel> {
  /**
   * Fitted state.
   *
   * @param neighbors k of the valued classifier
   * @param pool [row][d+1] compressed features of the validation rows
   * @param labels class index of each validation row
   * @param groups the near-duplicate hash
   * @param keys [row][table] near-duplicate keys of each validation row, to leave out a row's own copies
   * @param distances [v][t] squared distance from validation row v to its (t+1)-th nearest other validation row
   * @param tails [v][r−1] what the players ranked behind rank r add to the value of a row at rank r in v's game
   *     ({@link #tails})
   * @param truncated whether each game holds fewer validation rows than there are: a row no nearer than the last
   *     listed is then no player
   */
  public record State(int neighbors, double[][] pool, int[] labels, NearDuplicateHash groups, long[][] keys,
      double[][] distances, double[][] tails, boolean truncated) implements Serializable {}

  private final State state;

  KnnShapleyModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return KnnShapleyDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    return false;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  /** Validation rows. */
  public int validationRows() {
    return state.pool().length;
  }

  /** The fitted state (for tests in this package). */
  State state() {
    return state;
  }

  /**
   * The weight c_m = min(k, m) / (k·m) of the player at rank m: what its label adds to the classifier's accuracy
   * on average over the orders in which players join.
   */
  static double weight(int rank, int k) {
    return rank <= k ? 1.0 / k : 1.0 / rank;
  }

  /**
   * For a game whose other players carry the validation row's label where {@code agrees} says (nearest first), the
   * term of a row's Shapley value that the players behind it decide, for the row at each rank r = 1 … n + 1:
   * −Σ a_m / (m(m−1)) over the ranks m from max(r, k) + 1 to n + 1, a_m being whether the player at rank m agrees
   * (the other players sit at rank t + 1 when before the row, t + 2 when behind it, t counted from 1).
   */
  static double[] tails(boolean[] agrees, int k) {
    int n = agrees.length;
    double[] tail = new double[n + 1];
    for (int r = n; r >= 1; r--) {
      int m = r + 1;
      // the player at rank m is the other player listed m − 1th (index m − 2)
      tail[r - 1] = tail[r] - (m > k && agrees[m - 2] ? 1.0 / ((double) m * (m - 1)) : 0);
    }
    return tail;
  }

  /**
   * The Shapley value of the row {@code x} (near-duplicate keys {@code self}, class {@code label}) in each
   * validation row's game it plays in, averaged over the validation rows it is no near-copy of ({@code search} holds
   * the validation rows of {@code s}), and how many of those it would mislead. Null when every validation row is a
   * copy of it.
   */
  static Valuation value(State s, double[] x, long[] self, int label, NeighbourPool search) {
    float[] closeness = search.closeness(x, self);
    double norm = NeighbourPool.squaredNorm(x);
    double total = 0;
    int counted = 0;
    int misleads = 0;
    for (int v = 0; v < s.pool().length; v++) {
      if (closeness[v] == Float.NEGATIVE_INFINITY) {
        continue;
      }
      counted++;
      double distance = norm - 2.0 * closeness[v];
      double[] listed = s.distances()[v];
      if (Double.isNaN(distance) || s.truncated() && !(distance < listed[listed.length - 1])) {
        continue;
      }
      int rank = 1 + SortedSearch.firstAtLeast(listed, distance);
      boolean agrees = s.labels()[v] == label;
      total += (agrees ? weight(rank, s.neighbors()) : 0) + s.tails()[v][rank - 1];
      if (rank <= s.neighbors() && !agrees) {
        misleads++;
      }
    }
    return counted == 0 ? null : new Valuation(total / counted, misleads);
  }

  /** A row's value and the number of validation rows whose k nearest it would join against their label. */
  record Valuation(double value, int misleads) {}

  @Override
  protected RowScorer scorer() {
    State s = state;
    NeighbourPool search = new NeighbourPool(s.pool(), s.keys());
    return (row, label) -> {
      if (Double.isNaN(label)) {
        return new Score(Double.NaN, null);
      }
      Valuation valued = value(s, row.design(), s.groups().keys(row.values()), (int) label, search);
      if (valued == null) {
        return new Score(Double.NaN, null);
      }
      return new Score(-valued.value(), () -> String.format(Locale.ROOT, "value=%.3g,misleads=%d", valued.value(),
          valued.misleads()));
    };
  }

  @Override
  public KnnShapleyModel copy(ParamMap extra) {
    return copyValues(new KnnShapleyModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<KnnShapleyModel> read() {
    return StateIO.reader(KnnShapleyModel.class, State.class, KnnShapleyModel::new);
  }

  /** Loads a saved model. */
  public static KnnShapleyModel load(String path) {
    return read().load(path);
  }
}
