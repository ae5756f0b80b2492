package io.poisonguard.train;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Random;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Deep Partition Aggregation on a seventh of Spambase (658 training rows) with 15 CART partitions: the certificate
 * survives the real attack it bounds (rows removed, partitions retrained), is tight on the votes, and the ensemble
 * is a function of the ids and the seed only.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PartitionEnsembleTest {
  private static final int K = 15;
  private static final long SEED = 11;

  private Prepared data;
  private PartitionEnsembleTrainer trainer;
  private PartitionEnsemble ensemble;
  /** The training rows of each partition, in id order, as the trainer sees them. */
  private final Map<Integer, List<Row>> partitions = new HashMap<>();
  private double[][] points;

  @BeforeAll
  void fit(SparkSession spark) {
    data = Prepared.load(spark, "data/spambase.csv", "type", 7, 0, 3);
    trainer = new PartitionEnsembleTrainer(new TribuoTrainers.Cart(4, 1f), K);
    ensemble = trainer.fit(data.train, data.numClasses, data.numFeatures, SEED);
    // The test reads the small training set back to check the trainer's grouping and to retrain partitions.
    for (Row r : data.train.select(Columns.ID, Columns.FEATURES, Columns.LABEL_INDEX, Columns.WEIGHT)
        .collectAsList()) {
      partitions.computeIfAbsent(PartitionEnsembleTrainer.partitionOf(r.getString(0), K, SEED), j -> new ArrayList<>())
          .add(r);
    }
    partitions.values().forEach(rows -> rows.sort(Comparator.comparing(r -> r.getString(0))));
    // every 10th held-out row: spam and nonspam alike (the file lists spam first)
    points = data.test.where(col(Columns.ID).cast("long").mod(10).equalTo(3)).select(Columns.FEATURES)
        .collectAsList().stream().map(r -> ((Vector) r.get(0)).toArray()).toArray(double[][]::new);
  }

  @AfterAll
  void release() {
    data.release();
  }

  @Test
  void radiusOfHandMadeVotes() {
    assertEquals(1, PartitionEnsemble.certifiedRadius(new int[] {5, 2}, 0)); // gap 3
    assertEquals(1, PartitionEnsemble.certifiedRadius(new int[] {2, 5}, 1)); // gap 3, less the tie to class 0
    assertEquals(0, PartitionEnsemble.certifiedRadius(new int[] {3, 5}, 1)); // one move: 4:4, class 0 wins the tie
    assertEquals(1, PartitionEnsemble.certifiedRadius(new int[] {5, 3}, 0)); // one move: 4:4 still class 0
    assertEquals(0, PartitionEnsemble.certifiedRadius(new int[] {3, 3}, 0)); // a tie won
    assertEquals(0, PartitionEnsemble.certifiedRadius(new int[] {0, 0}, 0)); // nothing voted
    assertEquals(0, PartitionEnsemble.certifiedRadius(new int[] {0, 6, 6}, 1)); // tie against a higher class
    assertEquals(2, PartitionEnsemble.certifiedRadius(new int[] {1, 7, 2, 0}, 1));
    assertEquals(7, PartitionEnsemble.certifiedRadius(new int[] {15, 0}, 0));
    assertThrows(IllegalArgumentException.class, () -> PartitionEnsemble.certifiedRadius(new int[] {3, 3}, 1));
    assertEquals(1, PartitionEnsemble.winner(new int[] {2, 5, 5}));
  }

  /**
   * The radius against exhaustive search: the fewest single-row changes (a vote moved between classes, a vote
   * added by a row in an empty partition, a vote dropped by a partition emptied) that change the winner, minus one.
   */
  @Test
  void radiusIsExactlyTheFewestChangesMinusOne() {
    Random random = new Random(5);
    for (int trial = 0; trial < 300; trial++) {
      int[] votes = new int[2 + random.nextInt(3)];
      for (int c = 0; c < votes.length; c++) {
        votes[c] = random.nextInt(7);
      }
      int winner = PartitionEnsemble.winner(votes);
      assertEquals(fewestChanges(votes, winner) - 1, PartitionEnsemble.certifiedRadius(votes, winner),
          Arrays.toString(votes));
    }
  }

  private static int fewestChanges(int[] start, int winner) {
    Map<List<Integer>, Integer> depth = new HashMap<>();
    Queue<int[]> queue = new ArrayDeque<>();
    depth.put(key(start), 0);
    queue.add(start);
    while (!queue.isEmpty()) {
      int[] v = queue.remove();
      int d = depth.get(key(v));
      if (PartitionEnsemble.winner(v) != winner) {
        return d;
      }
      List<int[]> next = new ArrayList<>();
      for (int a = 0; a < v.length; a++) {
        next.add(changed(v, a, +1));
        if (v[a] > 0) {
          next.add(changed(v, a, -1));
          for (int b = 0; b < v.length; b++) {
            if (b != a) {
              next.add(changed(changed(v, a, -1), b, +1));
            }
          }
        }
      }
      for (int[] n : next) {
        if (depth.putIfAbsent(key(n), d + 1) == null) {
          queue.add(n);
        }
      }
    }
    throw new AssertionError("the winner never changes");
  }

  private static int[] changed(int[] v, int c, int delta) {
    int[] n = v.clone();
    n[c] += delta;
    return n;
  }

  private static List<Integer> key(int[] v) {
    return Arrays.stream(v).boxed().toList();
  }

  /** Moving r winning votes to the strongest rival keeps the prediction, moving r + 1 changes it. */
  @Test
  void radiusIsTightOnTheEnsemblesVotes() {
    for (double[] x : points) {
      int[] votes = ensemble.votes(x);
      int c = ensemble.predict(x);
      int r = PartitionEnsemble.certifiedRadius(votes, c);
      int rival = -1;
      for (int o = 0; o < votes.length; o++) {
        if (o != c && (rival < 0 || votes[o] + (o < c ? 1 : 0) > votes[rival] + (rival < c ? 1 : 0))) {
          rival = o;
        }
      }
      assertEquals(c, PartitionEnsemble.winner(moved(votes, c, rival, r)), Arrays.toString(votes));
      assertNotEquals(c, PartitionEnsemble.winner(moved(votes, c, rival, r + 1)), Arrays.toString(votes));
    }
  }

  private static int[] moved(int[] votes, int from, int to, int n) {
    int[] v = votes.clone();
    v[from] -= n;
    v[to] += n;
    return v;
  }

  /**
   * The certificate against the real attack: for each point certified at r >= 1, one row of the predicted class
   * (where the partition has one) is removed from each of r partitions voting for the prediction, those models are
   * retrained with the same trainer and seed on what is left, and the prediction must not move.
   */
  @Test
  void certifiedPredictionsSurviveRemovingThatManyRowsAndRetraining() {
    int certified = 0;
    int removed = 0;
    int[] histogram = new int[K / 2 + 1];
    for (double[] x : points) {
      int[] votes = ensemble.votes(x);
      int c = ensemble.predict(x);
      int r = PartitionEnsemble.certifiedRadius(votes, c);
      histogram[r]++;
      if (r == 0) {
        continue;
      }
      certified++;
      PartitionEnsemble attacked = ensemble;
      int hit = 0;
      for (int j = 0; j < K && hit < r; j++) {
        if (ensemble.base(j) != null && ensemble.base(j).predict(x) == c) {
          attacked = attacked.withBase(j, retrainWithout(j, c));
          hit++;
          removed++;
        }
      }
      assertEquals(r, hit);
      assertEquals(c, attacked.predict(x), "votes " + Arrays.toString(votes) + " -> "
          + Arrays.toString(attacked.votes(x)));
    }
    System.out.printf("partition ensemble (k=%d, tribuo-cart): radius histogram over %d points %s,"
        + " accuracy %.4f; %d points attacked with %d rows removed%n", K, points.length, Arrays.toString(histogram),
        Prepared.accuracy(ensemble, data.test), certified, removed);
    assertTrue(certified >= points.length / 2, "certified " + certified + " of " + points.length);
  }

  /** Partition j's model retrained without its first row (in id order) of class {@code c}, or its first row. */
  private Classifier retrainWithout(int j, int c) {
    List<Row> rows = new ArrayList<>(partitions.get(j));
    int drop = 0;
    for (int i = 0; i < rows.size(); i++) {
      if ((int) rows.get(i).getDouble(2) == c) {
        drop = i;
        break;
      }
    }
    rows.remove(drop);
    return rows.isEmpty() ? null : fitPartition(j, rows);
  }

  private Classifier fitPartition(int j, List<Row> rows) {
    TaskRows t = TaskRows.of(rows, 1, data.numClasses);
    return trainer.fitPartition(j, t.features(), t.labels(), t.weights(), data.numClasses, SEED);
  }

  @Test
  void eachBaseIsItsPartitionsRowsRetrained() {
    assertEquals(K, ensemble.partitions());
    assertEquals(K, partitions.size());
    double[][] x = Arrays.copyOf(points, 10);
    for (int j = 0; j < K; j++) {
      assertArrayEquals(Prepared.probabilities(ensemble.base(j), x),
          Prepared.probabilities(fitPartition(j, partitions.get(j)), x), "partition " + j);
    }
  }

  @Test
  void theEnsembleDependsOnIdsAndSeedNotOnSparksOrder(@TempDir Path dir) throws IOException {
    PartitionEnsemble again = trainer.fit(data.train.orderBy(functions.rand(9)).repartition(3), data.numClasses,
        data.numFeatures, SEED);
    String saved = dir.resolve("dpa").toString();
    ensemble.save(saved);
    Classifier loaded = Classifiers.load(saved);
    for (double[] x : points) {
      assertArrayEquals(ensemble.votes(x), again.votes(x));
      assertArrayEquals(ensemble.votes(x), ((PartitionEnsemble) loaded).votes(x));
      assertArrayEquals(ensemble.probabilities(x), loaded.probabilities(x));
    }
  }

  @Test
  void partitionsAreAStableSeededHash() {
    int[] counts = new int[20];
    for (int i = 0; i < 20_000; i++) {
      int p = PartitionEnsembleTrainer.partitionOf("row-" + i, 20, 3);
      assertEquals(p, PartitionEnsembleTrainer.partitionOf("row-" + i, 20, 3));
      counts[p]++;
    }
    for (int n : counts) {
      assertTrue(n > 800 && n < 1200, Arrays.toString(counts));
    }
    int moved = 0;
    for (int i = 0; i < 1000; i++) {
      moved += PartitionEnsembleTrainer.partitionOf("row-" + i, 20, 3)
          != PartitionEnsembleTrainer.partitionOf("row-" + i, 20, 4) ? 1 : 0;
    }
    assertTrue(moved > 900, "another seed moved only " + moved + " of 1000 rows");
  }

  @Test
  void emptyPartitionsAbstain(@TempDir Path dir) throws IOException {
    PartitionEnsemble sparse = new PartitionEnsembleTrainer(new TribuoTrainers.Cart(2, 1f), 40)
        .fit(data.train.orderBy(col(Columns.ID)).limit(6), data.numClasses, data.numFeatures, SEED);
    int empty = 0;
    for (int j = 0; j < 40; j++) {
      empty += sparse.base(j) == null ? 1 : 0;
    }
    assertTrue(empty >= 34, empty + " empty partitions");
    int[] votes = sparse.votes(points[0]);
    assertEquals(40 - empty, Arrays.stream(votes).sum());
    assertEquals(1.0, Arrays.stream(sparse.probabilities(points[0])).sum(), 1e-12);
    String saved = dir.resolve("sparse").toString();
    sparse.save(saved);
    PartitionEnsemble loaded = (PartitionEnsemble) Classifiers.load(saved);
    for (int j = 0; j < 40; j++) {
      if (sparse.base(j) == null) {
        assertNull(loaded.base(j));
      }
    }
    assertArrayEquals(votes, loaded.votes(points[0]));
  }
}
