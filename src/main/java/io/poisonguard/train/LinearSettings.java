package io.poisonguard.train;

import io.poisonguard.config.TrainConfig;
import java.io.Serializable;

/**
 * What the linear trainer minimises and for how long.
 *
 * @param maxIter full passes (one Adam step each)
 * @param learningRate initial step, decayed to 0 on a cosine so the last passes settle
 * @param l2 ridge penalty per row on feature weights
 * @param l1 lasso penalty per row, applied by soft-thresholding after each step
 * @param maxWeightNorm bound on the Frobenius norm of the feature weights, 0 for none
 * @param labelSmoothing share of each target spread evenly over the classes
 * @param robustEpsilon L∞ budget of the worst-case loss, 0 for the plain loss
 * @param trimShare share of highest-loss rows left out of each pass, 0 for none
 * @param adversarial the attack whose examples are mixed into each row's loss, or null
 * @param adversarialMix weight of the adversarial copy in each row's loss
 * @param temperature softmax temperature of training (1 unless distilling)
 */
public record LinearSettings(int maxIter, double learningRate, double l2, double l1, double maxWeightNorm,
    double labelSmoothing, double robustEpsilon, double trimShare, Perturbation adversarial, double adversarialMix,
    double temperature) implements Serializable {

  /** A plain ridge-penalised softmax fit. */
  public static LinearSettings plain(int maxIter, double learningRate, double l2) {
    return new LinearSettings(maxIter, learningRate, l2, 0, 0, 0, 0, 0, null, 0, 1);
  }

  /** The linear trainer's settings of a pipeline's {@code train:} section, at temperature 1. */
  public static LinearSettings from(TrainConfig train) {
    TrainConfig.Adversarial adv = train.adversarial();
    return new LinearSettings(train.maxIter(), train.learningRate(), train.regularization().l2(),
        train.regularization().l1(), train.regularization().maxWeightNorm(), train.labelSmoothing(),
        train.robustLoss() == null ? 0 : train.robustLoss().epsilon(),
        train.trimmed() == null ? 0 : train.trimmed().share(),
        adv == null ? null : Perturbation.of(adv.attack(), adv.norm(), adv.epsilon(), adv.steps()),
        adv == null ? 0 : adv.mix(), 1);
  }

  /** The same settings at another temperature. */
  public LinearSettings atTemperature(double t) {
    return new LinearSettings(maxIter, learningRate, l2, l1, maxWeightNorm, labelSmoothing, robustEpsilon, trimShare,
        adversarial, adversarialMix, t);
  }
}
