package io.poisonguard.train;

import io.poisonguard.config.TrainConfig;

/** Turns a pipeline's {@code train:} section into the trainer it names, with its hardening settings. */
public final class Trainers {
  /** Shrinkage of each boosting step. */
  private static final double GBT_STEP = 0.1;
  /** Least total row weight of a CART leaf: keeps single rows from carving leaves of their own. */
  private static final float MIN_CHILD_WEIGHT = 5f;
  /** Share of features each forest split considers. */
  private static final float FOREST_FEATURES = 0.5f;

  private Trainers() {}

  /** The trainer of the whole model: a partition ensemble over the base learner when one is configured. */
  public static ModelTrainer forConfig(TrainConfig train) {
    if (train.partitionEnsemble() != null) {
      return new PartitionEnsembleTrainer(local(train), train.partitionEnsemble().partitions());
    }
    TrainConfig.Regularization r = train.regularization();
    double penalty = r.l1() + r.l2();
    return switch (train.trainer()) {
      case LinearSoftmax.TRAINER -> linear(train);
      case MllibTrainers.LOGISTIC -> new MllibTrainers.Logistic(penalty, penalty == 0 ? 0 : r.l1() / penalty,
          train.maxIter());
      case MllibTrainers.RANDOM_FOREST -> new MllibTrainers.RandomForest(train.numTrees(), train.maxDepth());
      case MllibTrainers.GBT -> new MllibTrainers.Gbt(train.numTrees(), train.maxDepth(), GBT_STEP);
      default -> new SingleTaskTrainer(local(train));
    };
  }

  /** The trainer of one in-memory model: a partition ensemble's base learner, or a Tribuo model in one task. */
  public static LocalTrainer local(TrainConfig train) {
    return switch (train.trainer()) {
      case LinearSoftmax.TRAINER -> linear(train);
      case TribuoTrainers.LOGISTIC -> new TribuoTrainers.Logistic(train.maxIter(), train.learningRate());
      case TribuoTrainers.CART -> new TribuoTrainers.Cart(train.maxDepth(), MIN_CHILD_WEIGHT);
      case TribuoTrainers.FOREST -> new TribuoTrainers.Forest(train.numTrees(), train.maxDepth(), FOREST_FEATURES);
      default -> throw new IllegalArgumentException(train.trainer() + " trains over Spark rows, not in one task");
    };
  }

  /** The linear trainer with every hardening of {@code train}; distillation trains at its temperature. */
  public static LinearTrainer linear(TrainConfig train) {
    LinearSettings settings = LinearSettings.from(train);
    return train.distillation() == null ? new LinearTrainer(settings, false)
        : new LinearTrainer(settings.atTemperature(train.distillation().temperature()), true);
  }

  /** The plain linear model attacks are crafted on when the trained model offers no gradient. */
  public static LinearTrainer surrogate(TrainConfig train) {
    return new LinearTrainer(LinearSettings.plain(train.maxIter(), train.learningRate(),
        train.regularization().l2()), false);
  }
}
