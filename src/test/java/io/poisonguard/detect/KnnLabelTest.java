package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** kNN label disagreement on spambase with 10% random label flips, against a sampled reference pool. */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KnnLabelTest {
  private static final String SCORE = PoisonDetector.scoreColumn(KnnLabelDetector.CODE);
  private static final String EVIDENCE = PoisonDetector.evidenceColumn(KnnLabelDetector.CODE);
  /** Below spambase's 4601 rows, so the pool is a sample: the size limit's path is the one tested. */
  private static final int POOL = 1500;

  private Spambase data;
  private Dataset<Row> prepared;
  private KnnLabelModel model;
  private Dataset<Row> scored;

  @BeforeAll
  void fit(SparkSession spark) {
    data = Spambase.load(spark);
    Dataset<Row> flipped = Spambase.flip(data.clean, 0.10, 31);
    prepared = FeaturePreparer.forSchema(data.schema).fit(flipped).transform(flipped).cache();
    model = new KnnLabelDetector().setMaxRows(POOL).setSeed(4).fit(prepared);
    scored = model.transform(prepared).cache();
  }

  @AfterAll
  void release() {
    scored.unpersist();
    prepared.unpersist();
    data.release();
  }

  @Test
  void detectsFlipsAgainstASampledPool() {
    assertTrue(model.poolSize() > 0.9 * POOL && model.poolSize() <= POOL, "pool " + model.poolSize());
    double auc = Spambase.auc(scored, SCORE, Spambase.FLIPPED);
    System.out.printf("knn_label AUC, 10%% flips, batch mode, pool %d of 4601: %.4f%n", model.poolSize(), auc);
    assertTrue(auc >= 0.85, "AUC " + auc);
    Row top = scored.orderBy(col(SCORE).desc()).select(EVIDENCE).first();
    assertTrue(top.getString(0).matches("given=(spam|nonspam),predicted=(spam|nonspam),p=[0-9.]+"), top.getString(0));
  }

  @Test
  void aRowIsNotItsOwnNeighbour() {
    // With k = 1 and the whole data as pool, a row's own copy (distance 0) would make every row agree.
    KnnLabelModel one = new KnnLabelDetector().setNumNeighbors(1).setMaxRows(Spambase.ROWS).fit(prepared);
    double auc = Spambase.auc(one.transform(prepared), SCORE, Spambase.FLIPPED);
    System.out.printf("knn_label AUC with k = 1, full pool: %.4f%n", auc);
    assertTrue(auc > 0.75, "AUC " + auc);
  }

  @Test
  void sameSeedSameScoresAndSaveLoadRoundTrip(@TempDir Path dir) throws IOException {
    KnnLabelModel again = new KnnLabelDetector().setMaxRows(POOL).setSeed(4).fit(prepared);
    assertEquals(0, ScoreDifferences.count(scored, again.transform(prepared), SCORE, EVIDENCE));
    model.write().save(dir.resolve("knn").toString());
    assertEquals(0, ScoreDifferences.count(scored, KnnLabelModel.load(dir.resolve("knn").toString())
        .transform(prepared), SCORE, EVIDENCE));
  }

  /**
   * The top-k scan against a sort: seeded closenesses drawn from few values (ties), some struck out (−inf) and some
   * NaN, k from 1 to past the rows that are finite, and past the number of blocks the scan takes maxima of.
   */
  @Test
  void nearestIsTheTopKBySortWithTiesToTheEarlierRow() {
    java.util.Random random = new java.util.Random(17);
    for (int trial = 0; trial < 200; trial++) {
      // up to some 25 blocks of the scan: k below and above the number of blocks
      int size = 1 + random.nextInt(1600);
      float[] closeness = new float[size + 5];
      for (int j = 0; j < closeness.length; j++) {
        int draw = random.nextInt(20);
        closeness[j] = draw == 0 ? Float.NEGATIVE_INFINITY : draw == 1 ? Float.NaN : random.nextInt(40) - 30f;
      }
      int k = 1 + random.nextInt(Math.min(size, 40));
      Integer[] order = java.util.stream.IntStream.range(0, size).boxed()
          .filter(j -> closeness[j] > Float.NEGATIVE_INFINITY)
          .sorted((a, b) -> closeness[a] != closeness[b] ? Float.compare(closeness[b], closeness[a]) : a - b)
          .toArray(Integer[]::new);
      int[] expected = new int[k];
      for (int i = 0; i < k; i++) {
        expected[i] = i < order.length ? order[i] : -1;
      }
      assertArrayEquals(expected, KnnLabelModel.Search.nearest(closeness, size, k), "trial " + trial);
    }
  }
}
