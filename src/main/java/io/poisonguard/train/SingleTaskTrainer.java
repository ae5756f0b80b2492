package io.poisonguard.train;

import static org.apache.spark.sql.functions.col;

import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;

/**
 * Runs a {@link LocalTrainer} over a whole Spark dataset inside ONE Spark task: the prepared rows are shuffled into
 * a single partition, that task builds the in-memory arrays and trains, and only the Java-serialized model (one row)
 * returns to the driver. The driver never holds the rows; one executor does, which is why the data's size is
 * checked first against {@link #MAX_CELLS}.
 *
 * <p>The rows are sorted by content inside the task (feature values, then class and weight) before training, so
 * the model depends on the rows and the seed only, not on how Spark happened to order them after the shuffle.
 */
public final class SingleTaskTrainer implements ModelTrainer {
  /**
   * Most rows × features one task trains on: 10 million cells are 80 MB as doubles, and the library's own copy
   * (Tribuo examples, tree indices) several times that, which still fits a default 1 GB executor.
   */
  public static final long MAX_CELLS = 10_000_000L;

  private final LocalTrainer local;

  /** Trains {@code local} on the whole dataset in one task. */
  public SingleTaskTrainer(LocalTrainer local) {
    this.local = local;
  }

  @Override
  public String name() {
    return local.name();
  }

  @Override
  public Classifier fit(Dataset<Row> prepared, int numClasses, int numFeatures, long seed) {
    Dataset<Row> rows = prepared.select(col(Columns.FEATURES), col(Columns.LABEL_INDEX), col(Columns.WEIGHT));
    long count = rows.count();
    if (count == 0) {
      throw new IllegalArgumentException(name() + ": no rows to train on");
    }
    if (count * Math.max(numFeatures, 1) > MAX_CELLS) {
      throw new IllegalArgumentException(name() + " trains in a single Spark task, which holds every row in one"
          + " executor's memory: " + count + " rows × " + numFeatures + " features exceed its limit of " + MAX_CELLS
          + " cells; choose a distributed trainer (mllib-*) or a partition ensemble, or sample the data");
    }
    LocalTrainer trainer = local;
    MapPartitionsFunction<Row, byte[]> train = it -> {
      List<Row> all = new ArrayList<>();
      it.forEachRemaining(all::add);
      all.sort(TaskRows.byContent(0));
      return List.of(TaskRows.serialize(TaskRows.of(all, 0, numClasses).fit(trainer, numClasses, seed))).iterator();
    };
    // one row back: the model's bytes. repartition(1), not coalesce(1): coalesce would pull the upstream stages into the single task as well.
    List<byte[]> models = rows.repartition(1).mapPartitions(train, Encoders.BINARY()).collectAsList();
    return TaskRows.deserialize(models.get(0));
  }
}
