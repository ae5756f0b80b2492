package io.poisonguard.detect;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.Base64;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.util.sketch.BloomFilter;

/** A fitted {@link LabelConsistencyDetector}: the fold models, class thresholds and the fit rows' filter. */
public final class LabelConsistencyModel extends RowScoringModel<LabelConsistencyModel> {
  /**
   * Fitted state.
   *
   * @param folds number of folds
   * @param seed seed of the row hash and of the fold assignment
   * @param classes number of classes
   * @param weights [fold][class model][d+1] logistic coefficients, intercept last
   * @param thresholds per-class mean out-of-fold self-confidence on the fit data
   * @param classNames class names for evidence, or null (indices are shown)
   * @param fitRows Bloom filter of the fit rows' hashes, serialised and Base64-encoded
   * @param groups the near-duplicate hash that assigns folds
   */
  public record State(int folds, long seed, int classes, double[][][] weights, double[] thresholds,
      String[] classNames, String fitRows, NearDuplicateHash groups) implements Serializable {}

  private final State state;

  LabelConsistencyModel(String uid, State state) {
    super(uid);
    this.state = state;
  }

  @Override
  public String reasonCode() {
    return LabelConsistencyDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    return false;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  /** Per-class confidence thresholds t_c learnt on the fit data. */
  public double[] thresholds() {
    return state.thresholds().clone();
  }

  @Override
  protected RowScorer scorer() {
    State s = state;
    BloomFilter fitRows;
    try {
      fitRows = BloomFilter.readFrom(Base64.getDecoder().decode(s.fitRows()));
    } catch (IOException e) {
      throw new UncheckedIOException("corrupt fit-row filter in model " + uid(), e);
    }
    ConfidentMargin margin = new ConfidentMargin(s.thresholds(), s.classNames());
    return (features, label) -> {
      if (Double.isNaN(label)) {
        return new Score(Double.NaN, null);
      }
      double[] x = LogisticFits.design(features);
      long hash = LogisticFits.rowHash(features, label, s.seed());
      double[] p;
      if (fitRows.mightContainLong(hash)) {
        p = LogisticFits.probabilities(s.weights()[s.groups().fold(features, s.seed(), s.folds())], x,
            s.classes());
      } else {
        p = new double[s.classes()];
        for (double[][] fold : s.weights()) {
          double[] q = LogisticFits.probabilities(fold, x, s.classes());
          for (int c = 0; c < p.length; c++) {
            p[c] += q[c] / s.folds();
          }
        }
      }
      return margin.score(p, label);
    };
  }

  @Override
  public LabelConsistencyModel copy(ParamMap extra) {
    return copyValues(new LabelConsistencyModel(uid(), state), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, state);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<LabelConsistencyModel> read() {
    return StateIO.reader(LabelConsistencyModel.class, State.class, LabelConsistencyModel::new);
  }

  /** Loads a saved model. */
  public static LabelConsistencyModel load(String path) {
    return read().load(path);
  }
}
