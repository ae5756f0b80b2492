package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** KNN-Shapley valuation on spambase: the definition on a small game, and 10% random label flips. */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KnnShapleyTest {
  private static final String SCORE = PoisonDetector.scoreColumn(KnnShapleyDetector.CODE);
  private static final String EVIDENCE = PoisonDetector.evidenceColumn(KnnShapleyDetector.CODE);

  private Spambase data;
  /** Spambase with 10% of its labels flipped, prepared. */
  private Dataset<Row> prepared;

  @BeforeAll
  void prepare(SparkSession spark) {
    data = Spambase.load(spark);
    Dataset<Row> flipped = Spambase.flip(data.clean, 0.10, 31);
    prepared = FeaturePreparer.forSchema(data.schema).fit(flipped).transform(flipped).cache();
  }

  @AfterAll
  void release() {
    prepared.unpersist();
    data.release();
  }

  /**
   * Eight validation rows, so every game has all of them and nothing is truncated: each of 60 other rows' scores
   * is minus its mean Shapley value over the validation rows it is no copy of, where the value in v's game is
   * computed from the definition, the weighted marginal gain over all 2⁷ coalitions of the other validation rows.
   */
  @Test
  void aValueIsTheShapleyValueOfItsDefinition() {
    int k = 3;
    Dataset<Row> validation = prepared.orderBy(Columns.ID).limit(8);
    KnnShapleyModel model = new KnnShapleyDetector().setNumNeighbors(k).setTruncation(20).fit(validation);
    KnnShapleyModel.State state = model.state();
    assertEquals(8, model.validationRows());
    assertFalse(state.truncated());
    NeighbourPool pool = new NeighbourPool(state.pool(), state.keys());
    List<Row> rows = model.transform(prepared.where(col(Columns.ID).between(100, 159)))
        .select(Columns.FEATURES, Columns.LABEL_INDEX, SCORE, EVIDENCE).collectAsList();
    assertEquals(60, rows.size());
    int checked = 0;
    for (Row r : rows) {
      Vector features = r.getAs(0);
      double[] x = LogisticFits.design(features);
      long[] self = state.groups().keys(features.toArray());
      double[] toValidation = distances(pool, x, self);
      double sum = 0;
      int counted = 0;
      for (int v = 0; v < 8; v++) {
        if (Double.isNaN(toValidation[v])) {
          continue;
        }
        double[] others = distances(pool, state.pool()[v], null);
        sum += shapleyByDefinition(toValidation[v], (int) r.getDouble(1), v, others, state.labels(), k);
        counted++;
      }
      if (counted == 0) {
        assertTrue(Double.isNaN(r.getDouble(2)));
        assertNull(r.get(3));
        continue;
      }
      assertEquals(-sum / counted, r.getDouble(2), 1e-12, "row " + checked);
      assertTrue(r.getString(3).matches("value=-?[0-9.e-]+,misleads=[0-8]"), r.getString(3));
      checked++;
    }
    assertTrue(checked >= 50, "rows valued " + checked);
  }

  @Test
  void flippedRowsHaveLowValues() {
    KnnShapleyModel batch = new KnnShapleyDetector().setSeed(4).fit(prepared);
    assertTrue(batch.state().truncated());
    double batchAuc = Spambase.auc(batch.transform(prepared), SCORE, Spambase.FLIPPED);
    Dataset<Row> trusted = prepared.where(pmod(col(Columns.ID), lit(5)).equalTo(0)
        .and(col(Spambase.FLIPPED).equalTo(false)));
    KnnShapleyModel onTrusted = new KnnShapleyDetector().setSeed(4).fit(trusted);
    double trustedAuc = Spambase.auc(onTrusted.transform(prepared), SCORE, Spambase.FLIPPED);
    System.out.printf("knn_shapley AUC, 10%% flips: batch mode (%d validation rows) %.4f, clean trusted fifth "
        + "(%d) %.4f%n", batch.validationRows(), batchAuc, onTrusted.validationRows(), trustedAuc);
    assertTrue(batchAuc >= 0.9, "batch AUC " + batchAuc);
    assertTrue(trustedAuc >= 0.9, "trusted AUC " + trustedAuc);
  }

  @Test
  void tailsFollowTheRecursionOfJiaEtAl() {
    // s_N = a_N·c_N and s_i = s_{i+1} + (a_i − a_{i+1})·c_i, for every rank of the row and every pattern of 6 others
    int k = 2;
    for (int pattern = 0; pattern < 64; pattern++) {
      boolean[] agrees = new boolean[6];
      for (int t = 0; t < 6; t++) {
        agrees[t] = (pattern >> t & 1) == 1;
      }
      double[] tails = KnnShapleyModel.tails(agrees, k);
      for (boolean row : new boolean[] {true, false}) {
        for (int rank = 1; rank <= 7; rank++) {
          boolean[] order = new boolean[7];
          for (int m = 1, t = 0; m <= 7; m++) {
            order[m - 1] = m == rank ? row : agrees[t++];
          }
          double s = (order[6] ? 1 : 0) * KnnShapleyModel.weight(7, k);
          for (int i = 6; i >= rank; i--) {
            s += ((order[i - 1] ? 1 : 0) - (order[i] ? 1 : 0)) * KnnShapleyModel.weight(i, k);
          }
          assertEquals(s, (row ? KnnShapleyModel.weight(rank, k) : 0) + tails[rank - 1], 1e-15,
              "pattern " + pattern + " rank " + rank);
        }
      }
    }
  }

  @Test
  void offByDefaultAndOnWhenEnabled() {
    assertTrue(DetectorRegistry.build(Map.of(), 1).stream().noneMatch(d -> d instanceof KnnShapleyDetector));
    List<DetectorEstimator<?>> on = DetectorRegistry.build(Map.of(KnnShapleyDetector.CODE,
        Map.of("enabled", true, "truncation", 50)), 9);
    KnnShapleyDetector detector = (KnnShapleyDetector) on.stream().filter(d -> d instanceof KnnShapleyDetector)
        .findFirst().orElseThrow();
    assertEquals(50, detector.getTruncation());
    assertEquals(9L, detector.getSeed());
  }

  @Test
  void sameSeedSameScoresAndSaveLoadRoundTrip(@TempDir Path dir) throws IOException {
    Dataset<Row> some = prepared.where(pmod(col(Columns.ID), lit(7)).equalTo(0));
    KnnShapleyModel model = new KnnShapleyDetector().setMaxRows(300).setSeed(5).fit(prepared);
    List<Row> first = scores(model, some);
    assertEquals(first, scores(new KnnShapleyDetector().setMaxRows(300).setSeed(5).fit(prepared), some));
    model.write().save(dir.resolve("shapley").toString());
    assertEquals(first, scores(KnnShapleyModel.load(dir.resolve("shapley").toString()), some));
  }

  private static List<Row> scores(KnnShapleyModel model, Dataset<Row> rows) {
    return model.transform(rows).select(Columns.ID, SCORE, EVIDENCE).orderBy(Columns.ID).collectAsList();
  }

  /** Squared distances from {@code x} to every validation row, NaN for the rows that are copies of it. */
  private static double[] distances(NeighbourPool pool, double[] x, long[] self) {
    float[] closeness = pool.closeness(x, self);
    double norm = NeighbourPool.squaredNorm(x);
    double[] out = new double[pool.size()];
    for (int v = 0; v < out.length; v++) {
      out[v] = closeness[v] == Float.NEGATIVE_INFINITY ? Double.NaN : norm - 2.0 * closeness[v];
    }
    return out;
  }

  /**
   * The row's Shapley value in validation row v's game: players are the row (at {@code rowDistance}, class
   * {@code label}) and every other validation row; a coalition's worth is (1/k) × the number of its min(k, size)
   * players nearest to v (the row first among equals) that carry v's class.
   */
  private static double shapleyByDefinition(double rowDistance, int label, int v, double[] toOthers, int[] labels,
      int k) {
    List<Integer> others = new ArrayList<>();
    for (int p = 0; p < labels.length; p++) {
      if (p != v) {
        others.add(p);
      }
    }
    int n = others.size() + 1;
    double value = 0;
    for (int mask = 0; mask < 1 << others.size(); mask++) {
      List<double[]> coalition = new ArrayList<>();
      for (int i = 0; i < others.size(); i++) {
        if ((mask >> i & 1) == 1) {
          int p = others.get(i);
          coalition.add(new double[] {toOthers[p], labels[p] == labels[v] ? 1 : 0, 1});
        }
      }
      int size = coalition.size();
      double without = worth(coalition, k);
      coalition.add(new double[] {rowDistance, label == labels[v] ? 1 : 0, 0});
      double with = worth(coalition, k);
      value += factorial(size) * factorial(n - size - 1) / factorial(n) * (with - without);
    }
    return value;
  }

  private static double worth(List<double[]> coalition, int k) {
    List<double[]> sorted = new ArrayList<>(coalition);
    sorted.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(a[2], b[2]));
    double agree = 0;
    for (int i = 0; i < Math.min(k, sorted.size()); i++) {
      agree += sorted.get(i)[1];
    }
    return agree / k;
  }

  private static double factorial(int n) {
    double f = 1;
    for (int i = 2; i <= n; i++) {
      f *= i;
    }
    return f;
  }
}
