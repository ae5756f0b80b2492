package io.poisonguard.config;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Set;

/**
 * The {@code train:} section of a pipeline: which trainer runs on the clean table after a passing gate, how it is
 * hardened and how the hardening is measured. Every hardening block is off when absent.
 *
 * @param trainer {@code linear} (PoisonGuard's softmax model: every hardening applies), {@code mllib-logistic},
 *     {@code mllib-random-forest}, {@code mllib-gbt}, {@code tribuo-logistic}, {@code tribuo-cart},
 *     {@code tribuo-forest}
 * @param maxIter optimiser passes over the data for the linear trainer (default 200)
 * @param learningRate the linear trainer's initial Adam step (default 0.05, decayed to 0 on a cosine)
 * @param testFraction share of the clean rows held out (by a hash of {@code _pg_id}) for the evaluation (default 0.2)
 * @param numTrees trees of the forest and boosting trainers (default 50)
 * @param maxDepth depth of tree trainers (default 8)
 * @param regularization L1/L2 penalties and a weight-norm bound
 * @param labelSmoothing share of each target spread evenly over the classes (default 0)
 * @param adversarial adversarial augmentation, or null
 * @param robustLoss worst-case loss under an L∞ budget (linear trainer only), or null
 * @param trimmed trimmed loss, or null
 * @param distillation defensive distillation (linear trainer only), or null
 * @param partitionEnsemble partition-aggregation ensemble, or null
 * @param inputGuard prediction-time clipping and squeezing
 * @param evaluate attack budgets of the evaluation
 */
public record TrainConfig(String trainer, int maxIter, double learningRate, double testFraction, int numTrees,
    int maxDepth, Regularization regularization, double labelSmoothing, Adversarial adversarial,
    RobustLoss robustLoss, Trimmed trimmed, Distillation distillation, PartitionEnsemble partitionEnsemble,
    InputGuard inputGuard, Evaluation evaluate) {
  /** Trainer names a pipeline may choose. */
  public static final Set<String> TRAINERS = Set.of("linear", "mllib-logistic", "mllib-random-forest", "mllib-gbt",
      "tribuo-logistic", "tribuo-cart", "tribuo-forest");
  /** Trainers that can be the base learner of a partition ensemble (trained inside one task each). */
  public static final Set<String> LOCAL_TRAINERS = Set.of("linear", "tribuo-logistic", "tribuo-cart", "tribuo-forest");

  @JsonCreator
  public static TrainConfig of(@JsonProperty("trainer") String trainer, @JsonProperty("max_iter") Integer maxIter,
      @JsonProperty("learning_rate") Double learningRate, @JsonProperty("test_fraction") Double testFraction,
      @JsonProperty("num_trees") Integer numTrees, @JsonProperty("max_depth") Integer maxDepth,
      @JsonProperty("regularization") Regularization regularization,
      @JsonProperty("label_smoothing") Double labelSmoothing, @JsonProperty("adversarial") Adversarial adversarial,
      @JsonProperty("robust_loss") RobustLoss robustLoss, @JsonProperty("trimmed") Trimmed trimmed,
      @JsonProperty("distillation") Distillation distillation,
      @JsonProperty("partition_ensemble") PartitionEnsemble partitionEnsemble,
      @JsonProperty("input_guard") InputGuard inputGuard, @JsonProperty("evaluate") Evaluation evaluate) {
    return new TrainConfig(trainer == null ? "linear" : trainer, maxIter == null ? 200 : maxIter,
        learningRate == null ? 0.05 : learningRate, testFraction == null ? 0.2 : testFraction,
        numTrees == null ? 50 : numTrees, maxDepth == null ? 8 : maxDepth,
        regularization == null ? Regularization.of(null, null, null) : regularization,
        labelSmoothing == null ? 0 : labelSmoothing, adversarial, robustLoss, trimmed, distillation,
        partitionEnsemble, inputGuard == null ? InputGuard.of(null, null, null, null) : inputGuard,
        evaluate == null ? Evaluation.of(null, null) : evaluate);
  }

  public TrainConfig {
    if (!TRAINERS.contains(trainer)) {
      throw new ConfigException("train.trainer: unknown trainer '" + trainer + "'; choose one of "
          + TRAINERS.stream().sorted().toList());
    }
    require(maxIter >= 1, "train.max_iter must be at least 1, got " + maxIter);
    require(learningRate > 0, "train.learning_rate must be positive, got " + learningRate);
    require(testFraction > 0 && testFraction < 0.9, "train.test_fraction must be in (0, 0.9), got " + testFraction);
    require(numTrees >= 1 && maxDepth >= 1, "train.num_trees and train.max_depth must be at least 1");
    require(labelSmoothing >= 0 && labelSmoothing < 1, "train.label_smoothing must be in [0, 1), got "
        + labelSmoothing);
    boolean linear = trainer.equals("linear");
    require(linear || robustLoss == null, "train.robust_loss: the worst-case loss is defined for the linear "
        + "trainer only; set train.trainer: linear or remove robust_loss");
    require(linear || distillation == null, "train.distillation: defensive distillation needs the linear "
        + "trainer's temperature; set train.trainer: linear or remove distillation");
    require(linear || (trimmed == null && labelSmoothing == 0 && regularization.maxWeightNorm() == 0),
        "train.trimmed, train.label_smoothing and train.regularization.max_weight_norm apply to the linear trainer "
            + "only; set train.trainer: linear or remove them");
    require(partitionEnsemble == null || LOCAL_TRAINERS.contains(trainer), "train.partition_ensemble: base models "
        + "train inside one Spark task each, which " + trainer + " does not; use one of "
        + LOCAL_TRAINERS.stream().sorted().toList());
    require(partitionEnsemble == null || adversarial == null, "train.partition_ensemble with train.adversarial: "
        + "augmented copies would add rows to partitions and void the certificate; remove one of them");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new ConfigException(message);
    }
  }

  /**
   * Penalties on the feature weights (intercepts are never penalised).
   *
   * @param l2 ridge penalty per row (default 1e-4)
   * @param l1 lasso penalty per row, applied by soft-thresholding after each step (default 0)
   * @param maxWeightNorm bound on the Frobenius norm of the linear weights, 0 for none
   */
  public record Regularization(double l2, double l1, double maxWeightNorm) {
    @JsonCreator
    public static Regularization of(@JsonProperty("l2") Double l2, @JsonProperty("l1") Double l1,
        @JsonProperty("max_weight_norm") Double maxWeightNorm) {
      return new Regularization(l2 == null ? 1e-4 : l2, l1 == null ? 0 : l1, maxWeightNorm == null ? 0 : maxWeightNorm);
    }

    public Regularization {
      require(l2 >= 0 && l1 >= 0 && maxWeightNorm >= 0, "train.regularization: l2, l1 and max_weight_norm must be "
          + "non-negative");
    }
  }

  /**
   * Adversarial augmentation: each training row is also seen as its worst case found by the attack against the
   * current model (linear trainer) or against a linear surrogate (other trainers: transferred examples).
   *
   * @param attack {@code pgd} or {@code fgsm}
   * @param norm {@code linf} or {@code l2}
   * @param epsilon budget in robustly scaled units
   * @param steps PGD steps (FGSM is one step of size ε)
   * @param mix weight of the adversarial copy in each row's loss (default 0.5)
   */
  public record Adversarial(String attack, String norm, double epsilon, int steps, double mix) {
    @JsonCreator
    public static Adversarial of(@JsonProperty("attack") String attack, @JsonProperty("norm") String norm,
        @JsonProperty(value = "epsilon", required = true) Double epsilon, @JsonProperty("steps") Integer steps,
        @JsonProperty("mix") Double mix) {
      return new Adversarial(attack == null ? "pgd" : attack, norm == null ? "linf" : norm,
          epsilon == null ? Double.NaN : epsilon, steps == null ? 10 : steps, mix == null ? 0.5 : mix);
    }

    public Adversarial {
      require(attack.equals("pgd") || attack.equals("fgsm"), "train.adversarial.attack must be pgd or fgsm, got '"
          + attack + "'");
      require(norm.equals("linf") || norm.equals("l2"), "train.adversarial.norm must be linf or l2, got '" + norm
          + "'");
      require(epsilon > 0, "train.adversarial.epsilon must be positive, got " + epsilon);
      require(steps >= 1, "train.adversarial.steps must be at least 1, got " + steps);
      require(mix > 0 && mix <= 1, "train.adversarial.mix must be in (0, 1], got " + mix);
    }
  }

  /** The exact (two classes) or per-rival bounded (more) worst-case logistic loss under an L∞ budget ε. */
  public record RobustLoss(double epsilon) {
    @JsonCreator
    public static RobustLoss of(@JsonProperty(value = "epsilon", required = true) Double epsilon) {
      return new RobustLoss(epsilon == null ? Double.NaN : epsilon);
    }

    public RobustLoss {
      require(epsilon > 0, "train.robust_loss.epsilon must be positive, got " + epsilon);
    }
  }

  /** Trimmed loss: each pass leaves out the rows whose loss under the current model is in the top {@code share}. */
  public record Trimmed(double share) {
    @JsonCreator
    public static Trimmed of(@JsonProperty(value = "share", required = true) Double share) {
      return new Trimmed(share == null ? Double.NaN : share);
    }

    public Trimmed {
      require(share > 0 && share < 0.5, "train.trimmed.share must be in (0, 0.5), got " + share);
    }
  }

  /** Defensive distillation: a teacher and a student trained at {@code temperature}, the student served at 1. */
  public record Distillation(double temperature) {
    @JsonCreator
    public static Distillation of(@JsonProperty("temperature") Double temperature) {
      return new Distillation(temperature == null ? 20 : temperature);
    }

    public Distillation {
      require(temperature >= 1, "train.distillation.temperature must be at least 1, got " + temperature);
    }
  }

  /** Partition-aggregation ensemble: {@code partitions} base models on disjoint hash partitions of {@code _pg_id}. */
  public record PartitionEnsemble(int partitions) {
    @JsonCreator
    public static PartitionEnsemble of(@JsonProperty("partitions") Integer partitions) {
      return new PartitionEnsemble(partitions == null ? 50 : partitions);
    }

    public PartitionEnsemble {
      require(partitions >= 3 && partitions <= 10_000, "train.partition_ensemble.partitions must be in [3, 10000], got "
          + partitions);
    }
  }

  /**
   * Prediction-time input transformation.
   *
   * @param clip clip prepared features to the training data's quantile bounds (default true)
   * @param bounds lower and upper quantile of those bounds (default 0.001 and 0.999)
   * @param squeezeLevels levels per feature between the bounds for feature squeezing (default 16)
   * @param flagRate share of clean training rows whose squeezing disagreement exceeds the evasion flag (default 0.01)
   */
  public record InputGuard(boolean clip, List<Double> bounds, int squeezeLevels, double flagRate) {
    @JsonCreator
    public static InputGuard of(@JsonProperty("clip") Boolean clip, @JsonProperty("bounds") List<Double> bounds,
        @JsonProperty("squeeze_levels") Integer squeezeLevels, @JsonProperty("flag_rate") Double flagRate) {
      return new InputGuard(clip == null || clip, bounds == null ? List.of(0.001, 0.999) : bounds,
          squeezeLevels == null ? 16 : squeezeLevels, flagRate == null ? 0.01 : flagRate);
    }

    public InputGuard {
      require(bounds.size() == 2 && bounds.get(0) >= 0 && bounds.get(0) < bounds.get(1) && bounds.get(1) <= 1,
          "train.input_guard.bounds must be two quantiles 0 <= lower < upper <= 1, got " + bounds);
      require(squeezeLevels >= 2, "train.input_guard.squeeze_levels must be at least 2, got " + squeezeLevels);
      require(flagRate > 0 && flagRate < 0.5, "train.input_guard.flag_rate must be in (0, 0.5), got " + flagRate);
      bounds = List.copyOf(bounds);
    }
  }

  /**
   * Attack budgets the trained model is measured under.
   *
   * @param epsilons L∞ budgets in robustly scaled units (default 0.1, 0.25, 0.5, 1)
   * @param attackSteps PGD steps of the evaluation (default 20)
   */
  public record Evaluation(List<Double> epsilons, int attackSteps) {
    @JsonCreator
    public static Evaluation of(@JsonProperty("epsilons") List<Double> epsilons,
        @JsonProperty("attack_steps") Integer attackSteps) {
      return new Evaluation(epsilons == null ? List.of(0.1, 0.25, 0.5, 1.0) : epsilons,
          attackSteps == null ? 20 : attackSteps);
    }

    public Evaluation {
      require(!epsilons.isEmpty() && epsilons.stream().allMatch(e -> e > 0), "train.evaluate.epsilons must list "
          + "positive budgets");
      require(attackSteps >= 1, "train.evaluate.attack_steps must be at least 1");
      epsilons = List.copyOf(epsilons);
    }
  }
}
