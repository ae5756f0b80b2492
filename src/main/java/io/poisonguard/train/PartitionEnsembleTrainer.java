package io.poisonguard.train;

import static org.apache.spark.sql.functions.col;

import io.poisonguard.spark.Columns;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapGroupsFunction;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Trains a {@link PartitionEnsemble}: every row goes to partition {@link #partitionOf partitionOf(_pg_id, k,
 * seed)}, a seeded 64-bit hash of its id, so the assignment depends on the id alone (not on Spark's partitioning
 * or the row order) and rows sharing an id (augmented copies of one record) share a partition. Rows are grouped by
 * partition with one shuffle; each group's task sorts its rows by {@code _pg_id} (then by content) and trains the
 * base model with {@link #baseSeed}; only the k models return to the driver. A partition no row hashes to abstains.
 *
 * <p>Memory: a task holds one partition's rows, about {@code 1/k} of the data. Serializable because the training
 * tasks carry it (its base trainer) to the executors.
 */
public final class PartitionEnsembleTrainer implements ModelTrainer, Serializable {
  private static final long serialVersionUID = 1L;
  private final LocalTrainer base;
  private final int partitions;

  /** An ensemble of {@code partitions} models, each trained by {@code base} on its partition. */
  public PartitionEnsembleTrainer(LocalTrainer base, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException(PartitionEnsemble.TRAINER + ": partitions must be >= 1, got " + partitions);
    }
    this.base = base;
    this.partitions = partitions;
  }

  @Override
  public String name() {
    return PartitionEnsemble.TRAINER;
  }

  /**
   * The partition of the row with id {@code id} among {@code k}: FNV-1a over the id's UTF-8 bytes from a
   * seed-dependent start, finished with MurmurHash3's 64-bit mixer (FNV alone spreads the low bits poorly), modulo
   * {@code k}.
   */
  public static int partitionOf(String id, int k, long seed) {
    long h = 0xcbf29ce484222325L ^ mix(seed);
    byte[] bytes = id.getBytes(StandardCharsets.UTF_8);
    for (byte b : bytes) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return (int) Math.floorMod(mix(h ^ bytes.length), (long) k);
  }

  /**
   * The seed partition {@code j}'s model is trained with: distinct per partition, and a function of the ensemble
   * seed and {@code j} only, so retraining one partition (a row deleted) reproduces what a full retrain would.
   */
  public static long baseSeed(long seed, int j) {
    return mix(seed + 0x9e3779b97f4a7c15L * (j + 1L));
  }

  /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }

  /**
   * Partition {@code j}'s model on its rows, which must be in {@code _pg_id} order: exactly what {@link #fit}
   * trains for that partition, for evaluators that retrain one partition.
   */
  public Classifier fitPartition(int j, double[][] features, int[] labels, double[] weights, int numClasses,
      long seed) {
    return base.fit(features, labels, weights, numClasses, baseSeed(seed, j));
  }

  @Override
  public PartitionEnsemble fit(Dataset<Row> prepared, int numClasses, int numFeatures, long seed) {
    int k = partitions;
    Dataset<Row> rows = prepared.select(col(Columns.ID).cast("string"), col(Columns.FEATURES),
        col(Columns.LABEL_INDEX), col(Columns.WEIGHT));
    MapFunction<Row, Integer> partition = r -> {
      if (r.isNullAt(0)) {
        throw new IllegalArgumentException(PartitionEnsemble.TRAINER + ": a row has no " + Columns.ID
            + "; the partition of a row is a hash of its id");
      }
      return partitionOf(r.getString(0), k, seed);
    };
    FlatMapGroupsFunction<Integer, Row, Tuple2<Integer, byte[]>> train = (j, it) -> {
      List<Row> group = new ArrayList<>();
      it.forEachRemaining(group::add);
      // Rows sharing an id are ordered by content, so even they reach the trainer in a fixed order.
      group.sort(Comparator.<Row, String>comparing(r -> r.getString(0)).thenComparing(TaskRows.byContent(1)));
      TaskRows data = TaskRows.of(group, 1, numClasses);
      Classifier model = fitPartition(j, data.features(), data.labels(), data.weights(), numClasses, seed);
      return List.of(new Tuple2<>(j, TaskRows.serialize(model))).iterator();
    };
    // at most k rows: one small model per non-empty partition
    List<Tuple2<Integer, byte[]>> models = rows.groupByKey(partition, Encoders.INT())
        .flatMapGroups(train, Encoders.tuple(Encoders.INT(), Encoders.BINARY())).collectAsList();
    Classifier[] bases = new Classifier[k];
    for (Tuple2<Integer, byte[]> m : models) {
      bases[m._1()] = TaskRows.deserialize(m._2());
    }
    return new PartitionEnsemble(base.name(), bases, numClasses, numFeatures, seed);
  }
}
