package io.poisonguard.train;

import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.dtree.CARTClassificationTrainer;
import org.tribuo.classification.dtree.impurity.GiniIndex;
import org.tribuo.classification.ensemble.FullyWeightedVotingCombiner;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.common.tree.RandomForestTrainer;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.provenance.SimpleDataSourceProvenance;

/**
 * Tribuo's classifiers as {@link LocalTrainer}s: linear logistic regression by SGD, a CART tree and a random forest
 * of CART trees. Each fit builds a fresh Tribuo trainer from the settings and the seed, so the same rows and seed
 * give the same model (Tribuo trainers otherwise advance their random state with every call). Row weights become
 * Tribuo example weights. Over a whole Spark dataset they run through {@link SingleTaskTrainer}.
 */
public final class TribuoTrainers {
  /** Name of {@link Logistic}. */
  public static final String LOGISTIC = "tribuo-logistic";
  /** Name of {@link Cart}. */
  public static final String CART = "tribuo-cart";
  /** Name of {@link Forest}. */
  public static final String FOREST = "tribuo-forest";

  private static final LabelFactory LABELS = new LabelFactory();

  private TribuoTrainers() {}

  /** Shared conversion: rows to a Tribuo dataset, the Tribuo trainer's model to a {@link TribuoClassifier}. */
  abstract static class Base implements LocalTrainer {
    private static final long serialVersionUID = 1L;

    /** The Tribuo trainer for these settings, seeded. */
    abstract Trainer<Label> tribuo(int numFeatures, long seed);

    @Override
    public final Classifier fit(double[][] features, int[] labels, double[] weights, int numClasses, long seed) {
      if (features.length == 0) {
        throw new IllegalArgumentException(name() + ": no rows to train on");
      }
      int d = features[0].length;
      String[] names = TribuoClassifier.featureNames(d);
      MutableDataset<Label> data =
          new MutableDataset<>(new SimpleDataSourceProvenance("PoisonGuard prepared rows", LABELS), LABELS);
      for (int i = 0; i < features.length; i++) {
        data.add(TribuoClassifier.example(names, TribuoClassifier.label(labels[i]), features[i], weights[i]));
      }
      Model<Label> model = tribuo(d, seed).train(data);
      return new TribuoClassifier(name(), model, numClasses, d);
    }
  }

  /**
   * Multinomial logistic regression, trained by SGD with AdaGrad steps on the log loss (Tribuo's {@code
   * LinearSGDTrainer} with {@code LogMulticlass}), one example per step, rows shuffled each epoch by the seed.
   */
  public static final class Logistic extends Base {
    private static final long serialVersionUID = 1L;
    private final int epochs;
    private final double learningRate;

    /** {@code epochs} passes over the rows with AdaGrad's initial learning rate {@code learningRate}. */
    public Logistic(int epochs, double learningRate) {
      if (epochs < 1 || !(learningRate > 0)) {
        throw new IllegalArgumentException(LOGISTIC + ": epochs must be >= 1 and the learning rate > 0, got "
            + epochs + " and " + learningRate);
      }
      this.epochs = epochs;
      this.learningRate = learningRate;
    }

    @Override
    public String name() {
      return LOGISTIC;
    }

    @Override
    Trainer<Label> tribuo(int numFeatures, long seed) {
      // The loss is never logged: per-step logging in executor logs says nothing the evaluation does not.
      return new LinearSGDTrainer(new LogMulticlass(), new AdaGrad(learningRate, 1e-6), epochs, Integer.MAX_VALUE, 1,
          seed);
    }
  }

  /** One CART tree split on Gini impurity, considering every feature at every split. */
  public static final class Cart extends Base {
    private static final long serialVersionUID = 1L;
    private final int maxDepth;
    private final float minChildWeight;

    /** A tree at most {@code maxDepth} deep whose leaves hold at least {@code minChildWeight} of row weight. */
    public Cart(int maxDepth, float minChildWeight) {
      if (maxDepth < 1 || !(minChildWeight > 0)) {
        throw new IllegalArgumentException(CART + ": max depth must be >= 1 and the minimum child weight > 0, got "
            + maxDepth + " and " + minChildWeight);
      }
      this.maxDepth = maxDepth;
      this.minChildWeight = minChildWeight;
    }

    @Override
    public String name() {
      return CART;
    }

    @Override
    Trainer<Label> tribuo(int numFeatures, long seed) {
      return new CARTClassificationTrainer(maxDepth, minChildWeight, 0f, 1f, false, new GiniIndex(), seed);
    }
  }

  /**
   * A random forest: CART trees on bootstrap samples, each split choosing among a random share of the features;
   * the forest's probabilities are the trees' averaged.
   */
  public static final class Forest extends Base {
    private static final long serialVersionUID = 1L;
    private final int trees;
    private final int maxDepth;
    private final float featureFraction;

    /**
     * {@code trees} trees at most {@code maxDepth} deep, each split considering a {@code featureFraction} share of
     * the features (in (0, 1): with every feature the trees would differ by their bootstrap sample only).
     */
    public Forest(int trees, int maxDepth, float featureFraction) {
      if (trees < 1 || maxDepth < 1 || !(featureFraction > 0 && featureFraction < 1)) {
        throw new IllegalArgumentException(FOREST + ": trees and max depth must be >= 1 and the feature fraction in"
            + " (0, 1), got " + trees + ", " + maxDepth + " and " + featureFraction);
      }
      this.trees = trees;
      this.maxDepth = maxDepth;
      this.featureFraction = featureFraction;
    }

    @Override
    public String name() {
      return FOREST;
    }

    @Override
    Trainer<Label> tribuo(int numFeatures, long seed) {
      // Tribuo's default minimum leaf weight (5): bootstrap trees stay cheap and the averaging smooths them anyway.
      CARTClassificationTrainer tree =
          new CARTClassificationTrainer(maxDepth, 5f, 0f, featureFraction, false, new GiniIndex(), seed);
      return new RandomForestTrainer<>(tree, new FullyWeightedVotingCombiner(), trees, seed);
    }
  }
}
