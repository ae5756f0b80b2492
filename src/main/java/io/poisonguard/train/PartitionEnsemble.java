package io.poisonguard.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Deep Partition Aggregation: {@code k} base classifiers, each trained on its own disjoint hash partition of the
 * training rows (see {@link PartitionEnsembleTrainer}), voting with their predicted class. The prediction is the
 * class with most votes, ties to the lower class index; {@link #probabilities} are the vote shares.
 *
 * <p>A partition that held no training rows has no model and <em>abstains</em>: it casts no vote. Letting it vote
 * a fixed class would hand that class votes no training row supports. Abstentions keep the certificate sound: see
 * {@link #certifiedRadius}.
 *
 * <p>Because each training row lives in exactly one partition, deleting a row only needs its partition's model
 * retrained ({@link #withBase}); the other models are untouched.
 */
public final class PartitionEnsemble implements CertifiedClassifier {
  /** Trainer name of partition ensembles. */
  public static final String TRAINER = "partition-ensemble";
  private static final long serialVersionUID = 1L;

  private final String baseTrainer;
  private final Classifier[] bases;
  private final int numClasses;
  private final int numFeatures;
  private final long seed;

  /**
   * An ensemble of {@code bases}, one per partition, {@code null} where the partition was empty (it abstains);
   * {@code seed} is the one the partitions were hashed and trained with, kept so that a partition can be retrained
   * exactly.
   */
  public PartitionEnsemble(String baseTrainer, Classifier[] bases, int numClasses, int numFeatures, long seed) {
    boolean anyModel = false;
    for (Classifier base : bases) {
      if (base != null) {
        anyModel = true;
        if (base.numClasses() != numClasses || base.numFeatures() != numFeatures) {
          throw new IllegalArgumentException("base model of " + base.numClasses() + " classes and "
              + base.numFeatures() + " features in an ensemble of " + numClasses + " and " + numFeatures);
        }
      }
    }
    if (!anyModel) {
      throw new IllegalArgumentException("a partition ensemble needs at least one non-empty partition");
    }
    this.baseTrainer = baseTrainer;
    this.bases = bases.clone();
    this.numClasses = numClasses;
    this.numFeatures = numFeatures;
    this.seed = seed;
  }

  /** Number of partitions {@code k}, abstaining ones included. */
  public int partitions() {
    return bases.length;
  }

  /** The model of partition {@code j}, or {@code null} when the partition was empty and abstains. */
  public Classifier base(int j) {
    return bases[j];
  }

  /** Name of the trainer of the base models. */
  public String baseTrainer() {
    return baseTrainer;
  }

  /** The seed the rows were hashed to partitions with and the base models trained with. */
  public long seed() {
    return seed;
  }

  /** The same ensemble with partition {@code j}'s model replaced ({@code null}: the partition is now empty). */
  public PartitionEnsemble withBase(int j, Classifier base) {
    Classifier[] next = bases.clone();
    next[j] = base;
    return new PartitionEnsemble(baseTrainer, next, numClasses, numFeatures, seed);
  }

  /** Votes per class: how many base models predict each class for {@code x}. Abstaining partitions add none. */
  public int[] votes(double[] x) {
    int[] votes = new int[numClasses];
    for (Classifier base : bases) {
      if (base != null) {
        votes[base.predict(x)]++;
      }
    }
    return votes;
  }

  @Override
  public int predict(double[] x) {
    return winner(votes(x));
  }

  /** The class with most votes, ties to the lower class index. */
  public static int winner(int[] votes) {
    int best = 0;
    for (int c = 1; c < votes.length; c++) {
      if (votes[c] > votes[best]) {
        best = c;
      }
    }
    return best;
  }

  /** The vote shares among the votes cast (abstentions excluded). */
  @Override
  public double[] probabilities(double[] x) {
    int[] votes = votes(x);
    int cast = 0;
    for (int v : votes) {
      cast += v;
    }
    double[] p = new double[numClasses];
    for (int c = 0; c < numClasses; c++) {
      p[c] = (double) votes[c] / cast;
    }
    return p;
  }

  /**
   * How many training rows, inserted or removed in any combination, provably cannot change the prediction
   * {@code predicted} given the vote counts {@code votes}.
   *
   * <p>Each row lives in exactly one partition, so inserting or removing it changes at most one base model and so
   * at most one vote. A vote moved from the predicted class {@code c} to a rival {@code c'} closes their gap by 2;
   * a vote appearing from an abstaining partition (a row inserted into an empty one) or vanishing into abstention
   * (the last row of a partition removed) closes it by 1 only. Class {@code c} wins against {@code c' > c} while
   * {@code n_c >= n_c'}, but against {@code c' < c} only while {@code n_c > n_c'}, since ties go to the lower
   * index. So with the margin {@code g = min over c' != c of (n_c - n_c' - [c' < c])}, {@code c} stays the
   * prediction while {@code g >= 0}, which survives any {@code t} changes with {@code 2t <= g}:
   *
   * <pre>radius = floor((n_c - max over c' != c of (n_c' + [c' < c])) / 2)</pre>
   *
   * <p>It is tight: moving {@code radius + 1} of {@code c}'s votes to the rival attaining the maximum changes the
   * prediction.
   *
   * @throws IllegalArgumentException when {@code predicted} is not the winner of {@code votes}
   */
  public static int certifiedRadius(int[] votes, int predicted) {
    return radius(votes, predicted);
  }

  @Override
  public int certifiedRadius(double[] features) {
    int[] votes = votes(features);
    return radius(votes, winner(votes));
  }

  /** Each removed or inserted row moves at most one vote, so no radius exceeds half the partitions. */
  @Override
  public int maxRadius() {
    return partitions() / 2;
  }

  private static int radius(int[] votes, int predicted) {
    int strongestRival = Integer.MIN_VALUE;
    for (int c = 0; c < votes.length; c++) {
      if (c != predicted) {
        strongestRival = Math.max(strongestRival, votes[c] + (c < predicted ? 1 : 0));
      }
    }
    int margin = votes[predicted] - strongestRival;
    if (margin < 0) {
      throw new IllegalArgumentException("class " + predicted + " does not win the votes " + Arrays.toString(votes));
    }
    return margin / 2;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public int numFeatures() {
    return numFeatures;
  }

  @Override
  public String trainer() {
    return TRAINER;
  }

  /** The folder of partition {@code j}'s model inside a saved ensemble. */
  static String baseFolder(int j) {
    return String.format("base-%04d", j);
  }

  @Override
  public void save(String dir) throws IOException {
    ObjectNode fields = Classifiers.fields().put("base", baseTrainer).put("partitions", bases.length)
        .put("seed", seed).put("classes", numClasses).put("features", numFeatures);
    ArrayNode abstaining = fields.putArray("abstaining");
    for (int j = 0; j < bases.length; j++) {
      if (bases[j] == null) {
        abstaining.add(j);
      }
    }
    Classifiers.writeDescriptor(dir, TRAINER, fields);
    for (int j = 0; j < bases.length; j++) {
      if (bases[j] != null) {
        bases[j].save(Path.of(dir, baseFolder(j)).toString());
      }
    }
  }

  /** Reads an ensemble written by {@link #save}. */
  static PartitionEnsemble load(String dir, JsonNode descriptor) throws IOException {
    Classifier[] bases = new Classifier[descriptor.path("partitions").asInt()];
    boolean[] abstains = new boolean[bases.length];
    descriptor.path("abstaining").forEach(j -> abstains[j.asInt()] = true);
    for (int j = 0; j < bases.length; j++) {
      if (!abstains[j]) {
        bases[j] = Classifiers.load(Path.of(dir, baseFolder(j)).toString());
      }
    }
    return new PartitionEnsemble(descriptor.path("base").asText(), bases, descriptor.path("classes").asInt(),
        descriptor.path("features").asInt(), descriptor.path("seed").asLong());
  }
}
