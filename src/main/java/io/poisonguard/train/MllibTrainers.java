package io.poisonguard.train;

import static org.apache.spark.sql.functions.col;

import io.poisonguard.spark.Columns;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.classification.GBTClassifier;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.classification.RandomForestClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * MLlib's distributed classifiers as {@link ModelTrainer}s: logistic regression (elastic net), random forest and
 * gradient-boosted trees, all reading the row weight. The label column is tagged with the class count, so a class
 * missing from the rows still gets an output (MLlib otherwise counts classes from the largest index it sees).
 */
public final class MllibTrainers {
  /** Name of {@link Logistic}. */
  public static final String LOGISTIC = "mllib-logistic";
  /** Name of {@link RandomForest}. */
  public static final String RANDOM_FOREST = "mllib-random-forest";
  /** Name of {@link Gbt}. */
  public static final String GBT = "mllib-gbt";

  private MllibTrainers() {}

  /** The prepared rows with the label tagged as nominal with {@code numClasses} values. */
  static Dataset<Row> withClassCount(Dataset<Row> prepared, int numClasses) {
    return prepared.withColumn(Columns.LABEL_INDEX, col(Columns.LABEL_INDEX).as(Columns.LABEL_INDEX,
        NominalAttribute.defaultAttr().withName(Columns.LABEL_INDEX).withNumValues(numClasses).toMetadata()));
  }

  /**
   * Multinomial (binomial for two classes) logistic regression with an elastic-net penalty. MLlib's solver draws
   * nothing at random, so it takes no seed; its loss and gradient are summed over partitions in the order the
   * partitions finish ({@code treeAggregate}), so two fits of the same rows can differ in the last bits of a weight.
   */
  public static final class Logistic implements ModelTrainer {
    private final double regParam;
    private final double elasticNetParam;
    private final int maxIter;

    /**
     * Penalty strength {@code regParam}, L1 share {@code elasticNetParam} in [0, 1] (0 = ridge, 1 = lasso), at most
     * {@code maxIter} solver iterations.
     */
    public Logistic(double regParam, double elasticNetParam, int maxIter) {
      this.regParam = regParam;
      this.elasticNetParam = elasticNetParam;
      this.maxIter = maxIter;
    }

    @Override
    public String name() {
      return LOGISTIC;
    }

    @Override
    public Classifier fit(Dataset<Row> prepared, int numClasses, int numFeatures, long seed) {
      LogisticRegression lr = new LogisticRegression().setFeaturesCol(Columns.FEATURES)
          .setLabelCol(Columns.LABEL_INDEX).setWeightCol(Columns.WEIGHT).setRegParam(regParam)
          .setElasticNetParam(elasticNetParam).setMaxIter(maxIter);
      return wrap(LOGISTIC, lr.fit(withClassCount(prepared, numClasses)), numFeatures);
    }
  }

  /** A random forest; each split considers the square root of the feature count, MLlib's choice for classifiers. */
  public static final class RandomForest implements ModelTrainer {
    private final int numTrees;
    private final int maxDepth;

    /** {@code numTrees} trees at most {@code maxDepth} deep. */
    public RandomForest(int numTrees, int maxDepth) {
      this.numTrees = numTrees;
      this.maxDepth = maxDepth;
    }

    @Override
    public String name() {
      return RANDOM_FOREST;
    }

    @Override
    public Classifier fit(Dataset<Row> prepared, int numClasses, int numFeatures, long seed) {
      RandomForestClassifier rf = new RandomForestClassifier().setFeaturesCol(Columns.FEATURES)
          .setLabelCol(Columns.LABEL_INDEX).setWeightCol(Columns.WEIGHT).setNumTrees(numTrees).setMaxDepth(maxDepth)
          .setFeatureSubsetStrategy("sqrt").setSeed(seed);
      return wrap(RANDOM_FOREST, rf.fit(withClassCount(prepared, numClasses)), numFeatures);
    }
  }

  /**
   * Gradient-boosted trees on the logistic loss. Binary only: MLlib's GBT has no multiclass loss, and wrapping it
   * one-vs-rest would lose the class probabilities every consumer of a {@link Classifier} needs, so more than two
   * classes are refused with a message that names the alternatives.
   */
  public static final class Gbt implements ModelTrainer {
    private final int maxIter;
    private final int maxDepth;
    private final double stepSize;

    /** {@code maxIter} boosting rounds of trees at most {@code maxDepth} deep, shrunk by {@code stepSize}. */
    public Gbt(int maxIter, int maxDepth, double stepSize) {
      this.maxIter = maxIter;
      this.maxDepth = maxDepth;
      this.stepSize = stepSize;
    }

    @Override
    public String name() {
      return GBT;
    }

    @Override
    public Classifier fit(Dataset<Row> prepared, int numClasses, int numFeatures, long seed) {
      if (numClasses != 2) {
        throw new IllegalArgumentException(GBT + " is binary only, but the label has " + numClasses
            + " classes; choose " + RANDOM_FOREST + ", " + LOGISTIC + " or a Tribuo trainer");
      }
      GBTClassifier gbt = new GBTClassifier().setFeaturesCol(Columns.FEATURES).setLabelCol(Columns.LABEL_INDEX)
          .setWeightCol(Columns.WEIGHT).setMaxIter(maxIter).setMaxDepth(maxDepth).setStepSize(stepSize).setSeed(seed);
      return wrap(GBT, gbt.fit(withClassCount(prepared, numClasses)), numFeatures);
    }
  }

  @SuppressWarnings("unchecked")
  private static Classifier wrap(String trainer, ProbabilisticClassificationModel<?, ?> model, int numFeatures) {
    return new MllibClassifier(trainer, (ProbabilisticClassificationModel<Vector, ?>) model, numFeatures);
  }
}
