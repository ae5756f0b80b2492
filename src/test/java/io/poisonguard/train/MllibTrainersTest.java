package io.poisonguard.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.spark.ml.classification.RandomForestClassificationModel;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** MLlib's trainers on Spambase. */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MllibTrainersTest {
  private Prepared data;

  @BeforeAll
  void load(SparkSession spark) {
    data = Prepared.load(spark, "data/spambase.csv", "type", 5, 1, 0);
  }

  @AfterAll
  void release() {
    data.release();
  }

  @Test
  void logisticRegression(@TempDir Path dir) throws IOException {
    check(new MllibTrainers.Logistic(0.001, 0.5, 50), 0.88, dir);
  }

  @Test
  void randomForest(@TempDir Path dir) throws IOException {
    check(new MllibTrainers.RandomForest(20, 8), 0.92, dir);
  }

  @Test
  void gradientBoostedTrees(@TempDir Path dir) throws IOException {
    check(new MllibTrainers.Gbt(10, 4, 0.3), 0.88, dir);
  }

  /** Accuracy, determinism under the seed, and save and load to the same probabilities. */
  private void check(ModelTrainer trainer, double minAccuracy, Path dir) throws IOException {
    Classifier model = trainer.fit(data.train, data.numClasses, data.numFeatures, 7);
    double accuracy = Prepared.accuracy(model, data.test);
    System.out.printf("%s held-out accuracy on spambase: %.4f%n", trainer.name(), accuracy);
    assertTrue(accuracy > minAccuracy, trainer.name() + " accuracy " + accuracy);
    assertEquals(trainer.name(), model.trainer());
    assertEquals(2, model.numClasses());

    double[][] x = data.testFeatures(25);
    double[][] p = Prepared.probabilities(model, x);
    assertArrayEquals(p, Prepared.probabilities(trainer.fit(data.train, data.numClasses, data.numFeatures, 7), x));

    String saved = dir.resolve("model").toString();
    model.save(saved);
    Classifier loaded = Classifiers.load(saved);
    assertInstanceOf(MllibClassifier.class, loaded);
    assertArrayEquals(p, Prepared.probabilities(loaded, x));
  }

  @Test
  void aClassMissingFromTheRowsStillHasAnOutput() {
    Classifier model = new MllibTrainers.RandomForest(3, 3).fit(data.train, 3, data.numFeatures, 1);
    assertEquals(3, model.numClasses());
    assertEquals(0.0, model.probabilities(data.testFeatures(1)[0])[2]);
    assertInstanceOf(RandomForestClassificationModel.class, ((MllibClassifier) model).model());
  }

  @Test
  void theForestSeedMatters() {
    ModelTrainer forest = new MllibTrainers.RandomForest(5, 6);
    double[][] x = data.testFeatures(50);
    assertFalse(Arrays.deepEquals(
        Prepared.probabilities(forest.fit(data.train, 2, data.numFeatures, 1), x),
        Prepared.probabilities(forest.fit(data.train, 2, data.numFeatures, 2), x)));
  }

  @Test
  void gbtRefusesMoreThanTwoClasses() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MllibTrainers.Gbt(5, 3, 0.1)
        .fit(data.train.withColumn(Columns.LABEL_INDEX, functions.lit(2.0)), 3, data.numFeatures, 1));
    assertTrue(e.getMessage().contains(MllibTrainers.GBT) && e.getMessage().contains("3 classes"), e.getMessage());
  }
}
