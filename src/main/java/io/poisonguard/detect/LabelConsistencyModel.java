package io.poisonguard.detect;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.spark.ml.classification.RandomForestClassificationModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.util.sketch.BloomFilter;

/**
 * A fitted {@link LabelConsistencyDetector}: the fold models (logistic, and forests when asked for), class thresholds
 * and the fit rows' filter.
 */
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
   * @param forests number of fold forests beside the logistic models (0 or {@code folds}); they are saved apart,
   *     in MLlib's own format ({@link #write})
   */
  public record State(int folds, long seed, int classes, double[][][] weights, double[] thresholds,
      String[] classNames, String fitRows, NearDuplicateHash groups, int forests) implements Serializable {}

  private final State state;
  /** The fold forests, one per fold, or none. */
  private final List<RandomForestClassificationModel> forests;

  LabelConsistencyModel(String uid, State state, List<RandomForestClassificationModel> forests) {
    super(uid);
    this.state = state;
    this.forests = List.copyOf(forests);
  }

  /**
   * The class probabilities a fold gives compressed features {@code x}: its logistic model's ({@code models}),
   * averaged with its forest's when it has one ({@code forest} not null).
   */
  static double[] probabilities(double[][] models, RandomForestClassificationModel forest, double[] x, int classes) {
    double[] p = LogisticFits.probabilities(models, x, classes);
    if (forest != null) {
      double[] q = forest.predictProbability(Vectors.dense(x)).toArray();
      for (int c = 0; c < p.length; c++) {
        p[c] = q[c];
      }
    }
    return p;
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
    List<RandomForestClassificationModel> trees = forests;
    return (row, label) -> {
      if (Double.isNaN(label)) {
        return new Score(Double.NaN, null);
      }
      Vector features = row.features();
      double[] x = row.design();
      long hash = LogisticFits.rowHash(features, label, s.seed());
      double[] p;
      if (fitRows.mightContainLong(hash)) {
        int fold = s.groups().fold(features, s.seed(), s.folds());
        p = probabilities(s.weights()[fold], trees.isEmpty() ? null : trees.get(fold), x, s.classes());
      } else {
        p = new double[s.classes()];
        for (int fold = 0; fold < s.folds(); fold++) {
          double[] q = probabilities(s.weights()[fold], trees.isEmpty() ? null : trees.get(fold), x, s.classes());
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
    return copyValues(new LabelConsistencyModel(uid(), state, forests), extra).setParent(parent());
  }

  /** The state as JSON (see {@link StateIO}), and each fold forest under {@code forests/<fold>} by MLlib's writer. */
  @Override
  public MLWriter write() {
    return StateIO.writer(this, state, path -> {
      for (int fold = 0; fold < forests.size(); fold++) {
        try {
          forests.get(fold).save(forestPath(path, fold));
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write fold forest " + forestPath(path, fold), e);
        }
      }
    });
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<LabelConsistencyModel> read() {
    return StateIO.readerWithParts(LabelConsistencyModel.class, State.class, (uid, state, path) -> {
      List<RandomForestClassificationModel> forests = new ArrayList<>();
      for (int fold = 0; fold < state.forests(); fold++) {
        forests.add(RandomForestClassificationModel.load(forestPath(path, fold)));
      }
      return new LabelConsistencyModel(uid, state, forests);
    });
  }

  private static String forestPath(String path, int fold) {
    return new org.apache.hadoop.fs.Path(new org.apache.hadoop.fs.Path(path, "forests"), Integer.toString(fold))
        .toString();
  }

  /** Loads a saved model. */
  public static LabelConsistencyModel load(String path) {
    return read().load(path);
  }
}
