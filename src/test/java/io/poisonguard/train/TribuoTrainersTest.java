package io.poisonguard.train;

import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Model;

/** Tribuo's trainers on Spambase, each trained in one Spark task. */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TribuoTrainersTest {
  private Prepared data;

  @BeforeAll
  void load(SparkSession spark) {
    // one row in five trains, another fifth is held out
    data = Prepared.load(spark, "data/spambase.csv", "type", 5, 1, 0);
  }

  @AfterAll
  void release() {
    data.release();
  }

  @Test
  void logisticRegression(@TempDir Path dir) throws IOException {
    check(new TribuoTrainers.Logistic(5, 0.5), 0.88, dir);
  }

  @Test
  void cart(@TempDir Path dir) throws IOException {
    check(new TribuoTrainers.Cart(8, 5f), 0.88, dir);
  }

  @Test
  void forest(@TempDir Path dir) throws IOException {
    check(new TribuoTrainers.Forest(30, 10, 0.3f), 0.92, dir);
  }

  /** Accuracy, determinism under the seed, save and load to the same probabilities, provenance kept. */
  private void check(LocalTrainer local, double minAccuracy, Path dir) throws IOException {
    ModelTrainer trainer = new SingleTaskTrainer(local);
    Classifier model = trainer.fit(data.train, data.numClasses, data.numFeatures, 7);
    double accuracy = Prepared.accuracy(model, data.test);
    System.out.printf("%s held-out accuracy on spambase: %.4f%n", trainer.name(), accuracy);
    assertTrue(accuracy > minAccuracy, trainer.name() + " accuracy " + accuracy);
    assertEquals(local.name(), model.trainer());

    double[][] x = data.testFeatures(25);
    double[][] p = Prepared.probabilities(model, x);
    for (double[] row : p) {
      assertEquals(1.0, row[0] + row[1], 1e-9);
    }
    // Spark delivers the rows in another order: the content sort inside the task makes that irrelevant.
    Dataset<Row> shuffled = data.train.orderBy(functions.rand(3)).repartition(3);
    assertArrayEquals(p, Prepared.probabilities(trainer.fit(shuffled, data.numClasses, data.numFeatures, 7), x));

    String saved = dir.resolve("model").toString();
    model.save(saved);
    Classifier loaded = Classifiers.load(saved);
    assertInstanceOf(TribuoClassifier.class, loaded);
    assertArrayEquals(p, Prepared.probabilities(loaded, x));
    // The protobuf file is Tribuo's own: it loads without PoisonGuard and predicts the same.
    Model<?> plain = Model.deserializeFromFile(Path.of(saved, TribuoClassifier.MODEL_FILE));
    assertEquals(((TribuoClassifier) model).model().getClass(), plain.getClass());
    String provenance = Files.readString(Path.of(saved, TribuoClassifier.PROVENANCE_FILE));
    assertEquals(((TribuoClassifier) model).provenance(), provenance);
    assertTrue(provenance.contains("seed"), provenance);
  }

  @Test
  void classesMissingFromTheRowsGetProbabilityZero() {
    double[][] x = {{0, 1}, {1, 0}, {0, 2}, {2, 0}, {0, 3}, {3, 0}};
    int[] y = {0, 2, 0, 2, 0, 2};
    double[] w = {1, 1, 1, 1, 1, 1};
    Classifier model = new TribuoTrainers.Cart(3, 1f).fit(x, y, w, 4, 1);
    double[] p = model.probabilities(new double[] {0, 5});
    assertEquals(4, p.length);
    assertEquals(0.0, p[1]);
    assertEquals(0.0, p[3]);
    assertEquals(0, model.predict(new double[] {0, 5}));
    assertEquals(2, model.predict(new double[] {5, 0}));
  }

  @Test
  void exampleWeightsCount() {
    // Two identical inputs with opposite labels: the heavier row decides the leaf's majority.
    double[][] x = {{1}, {1}};
    int[] y = {0, 1};
    Classifier light = new TribuoTrainers.Cart(2, 0.5f).fit(x, y, new double[] {1, 3}, 2, 1);
    Classifier heavy = new TribuoTrainers.Cart(2, 0.5f).fit(x, y, new double[] {3, 1}, 2, 1);
    assertEquals(1, light.predict(new double[] {1}));
    assertEquals(0, heavy.predict(new double[] {1}));
    assertEquals(0.75, light.probabilities(new double[] {1})[1], 1e-6);
  }

  @Test
  void refusesMoreRowsThanOneTaskHolds(SparkSession spark) {
    // Only the count runs: the refusal comes before any row reaches the task.
    long rows = SingleTaskTrainer.MAX_CELLS / 100 + 1;
    Dataset<Row> big = spark.range(rows)
        .select(org.apache.spark.ml.functions.array_to_vector(functions.array(lit(0.0))).as(Columns.FEATURES),
            lit(0.0).as(Columns.LABEL_INDEX), lit(1.0).as(Columns.WEIGHT));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new SingleTaskTrainer(new TribuoTrainers.Cart(3, 1f)).fit(big, 2, 100, 1));
    assertTrue(e.getMessage().contains("single Spark task") && e.getMessage().contains(Long.toString(rows)),
        e.getMessage());
  }
}
