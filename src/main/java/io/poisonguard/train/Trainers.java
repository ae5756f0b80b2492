package io.poisonguard.train;

import io.poisonguard.config.TrainConfig;

/** Turns a pipeline's {@code train:} section into the trainer it names, with its hardening settings. */
public final class Trainers {
  private Trainers() {}

  /** The trainer of the whole model: a partition ensemble over the base learner when one is configured. */
  public static ModelTrainer forConfig(TrainConfig train) {
    return switch (train.trainer()) {
      case LinearSoftmax.TRAINER -> linear(train);
      default -> throw new IllegalArgumentException("trainer " + train.trainer() + " is not available");
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
