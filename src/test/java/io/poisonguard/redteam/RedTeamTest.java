package io.poisonguard.redteam;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.InputConfig;
import io.poisonguard.detect.FeaturePreparer;
import io.poisonguard.detect.FeaturePreparerModel;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Each attack's defining property, checked on the files it writes for real Spambase rows. */
@ExtendWith(SharedSpark.class)
class RedTeamTest {
  private static IngestedBatch spambase;

  @TempDir
  Path dir;

  @BeforeAll
  static void read() {
    spambase = new Ingestor(SharedSpark.session()).read(new InputConfig("data/spambase.csv", "csv", "type", null,
        null, null, null, null, null), "test");
  }

  @AfterAll
  static void release() {
    spambase.release();
  }

  private Path attack(String name, double rate, Map<String, String> options) throws Exception {
    Path out = dir.resolve(name);
    RedTeam.run(spambase, null, new AttackSpec(name, rate, 7, options), out);
    return out;
  }

  private static Dataset<Row> csv(SparkSession spark, Path file) {
    return spark.read().option("header", "true").option("inferSchema", "true").csv(file.toString())
        .withColumn("id", functions.col("id").cast("string"));
  }

  /** data.csv joined with truth.csv; checks the ids match one to one. */
  private static Dataset<Row> attacked(SparkSession spark, Path out) {
    Dataset<Row> data = csv(spark, out.resolve("data.csv"));
    Dataset<Row> truth = csv(spark, out.resolve("truth.csv"));
    assertEquals(data.count(), truth.count());
    Dataset<Row> joined = data.join(truth, "id").cache();
    assertEquals(data.count(), joined.count(), "every data id has exactly one truth row");
    return joined;
  }

  private static Dataset<Row> original(SparkSession spark) {
    return spambase.accepted().withColumnRenamed(Columns.ID, "id");
  }

  @Test
  void labelFlipChangesExactlyTheRateOfLabelsAndNothingElse(SparkSession spark) throws Exception {
    Dataset<Row> a = attacked(spark, attack("label-flip", 0.1, Map.of()));
    assertEquals(4601, a.count());
    assertEquals(460, a.filter("poisoned").count());
    Dataset<Row> o = original(spark).select(functions.col("id"), functions.col("type").as("was"),
        functions.col("capitalTotal").as("total_was"));
    Dataset<Row> both = a.join(o, "id");
    assertEquals(460, both.filter(functions.col("type").notEqual(functions.col("was"))).count());
    assertEquals(0, both.filter(functions.col("type").notEqual(functions.col("was")).and(functions.not(
        functions.col("poisoned")))).count());
    assertEquals(0, both.filter(functions.col("capitalTotal").notEqual(functions.col("total_was"))).count());
    List<String> firstIds = csv(spark, dir.resolve("label-flip/truth.csv")).limit(460).select("poisoned")
        .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertTrue(firstIds.contains("false"), "poisoned rows are shuffled in, not first");
  }

  @Test
  void targetedFlipsOnlyGoFromSourceToTarget(SparkSession spark) throws Exception {
    Dataset<Row> a = attacked(spark, attack("label-flip-targeted", 0.05,
        Map.of("source-class", "nonspam", "target-class", "spam")));
    Dataset<Row> both = a.join(original(spark).select(functions.col("id"), functions.col("type").as("was")), "id");
    Dataset<Row> flipped = both.filter("poisoned");
    assertEquals(230, flipped.count());
    assertEquals(230, flipped.filter("was = 'nonspam' AND type = 'spam'").count());
  }

  @Test
  void backdoorRowsCarryTheTriggerAndTheTargetLabel(SparkSession spark) throws Exception {
    Path out = attack("backdoor", 0.05, Map.of("target-class", "spam", "trigger", "charHash=5.0,money=3.0"));
    Dataset<Row> a = attacked(spark, out);
    long poisoned = a.filter("poisoned").count();
    assertEquals(0.05, poisoned / (double) a.count(), 0.001);
    assertEquals(poisoned, a.filter("poisoned AND type = 'spam' AND charHash = 5.0 AND money = 3.0").count());
    assertTrue(Files.readString(out.resolve("attack.json")).contains("\"charHash\" : 5.0"));
  }

  @Test
  void cleanLabelPoisonsSitNextToOneVictimWithTheBaseLabel(SparkSession spark) throws Exception {
    Dataset<Row> a = attacked(spark, attack("clean-label", 0.02, Map.of("base-class", "nonspam",
        "target-class", "spam")));
    Dataset<Row> poison = a.filter("poisoned");
    assertEquals(poison.count(), poison.filter("type = 'nonspam'").count());
    // lambda 0.9: every poison's capitalTotal is within 10% of the base-to-victim gap from one common value
    Row spread = poison.agg(functions.min("capitalTotal"), functions.max("capitalTotal")).head();
    Row range = original(spark).agg(functions.min("capitalTotal"), functions.max("capitalTotal")).head();
    assertTrue(spread.getDouble(1) - spread.getDouble(0) <= 0.1 * (range.getDouble(1) - range.getDouble(0)) + 1e-9);
  }

  @Test
  void outlierRowsLieOutsideTheData(SparkSession spark) throws Exception {
    Dataset<Row> a = attacked(spark, attack("outlier", 0.03, Map.of()));
    List<String> numeric = spambase.features().numericFeatures();
    Row max = original(spark).agg(functions.max(numeric.get(0)), numeric.subList(1, numeric.size()).stream()
        .map(functions::max).toArray(org.apache.spark.sql.Column[]::new)).head();
    org.apache.spark.sql.Column outside = functions.lit(false);
    for (int j = 0; j < numeric.size(); j++) {
      outside = outside.or(functions.col(numeric.get(j)).gt(max.getDouble(j)));
    }
    long poisoned = a.filter("poisoned").count();
    assertEquals(poisoned, a.filter(functions.col("poisoned").and(outside)).count(),
        "every outlier row has a feature above the clean maximum");
    assertEquals(0, a.filter(functions.not(functions.col("poisoned")).and(outside)).count());
  }

  @Test
  void floodRowsAreNearDuplicatesOfAFewRows(SparkSession spark) throws Exception {
    Dataset<Row> a = attacked(spark, attack("flood", 0.05, Map.of("bases", "3")));
    Dataset<Row> poison = a.filter("poisoned");
    assertEquals(0.05, poison.count() / (double) a.count(), 0.001);
    // rounded coarsely, the near-copies collapse onto their three base rows
    long groups = poison.select(functions.round(functions.col("capitalTotal"), -2),
        functions.round(functions.col("capitalLong"), -1), functions.col("type")).distinct().count();
    assertTrue(groups <= 6, "distinct coarse groups among flood rows: " + groups);
  }

  @Test
  void badSourceCarriesTheRequestedShareOfFlips(SparkSession spark) throws Exception {
    Dataset<Row> a = attacked(spark, attack("source", 0.3, Map.of()));
    Row bad = a.filter("source = 'feed-0'").agg(functions.avg(functions.when(functions.col("poisoned"), 1.0)
        .otherwise(0.0)), functions.count(functions.lit(1))).head();
    double n = bad.getLong(1);
    assertEquals(0.3, bad.getDouble(0), 4 * Math.sqrt(0.3 * 0.7 / n));
    assertEquals(0, a.filter("source <> 'feed-0' AND poisoned").count());
    assertEquals(5, a.select("source").distinct().count());
  }

  @Test
  void gradientPoisonRaisesValidationLossMoreThanRandomFlips(SparkSession spark) throws Exception {
    Dataset<Row>[] split = original(spark).randomSplit(new double[] {0.7, 0.3}, 3);
    Dataset<Row> train = split[0].cache();
    Dataset<Row> validation = split[1].cache();
    FeatureSchema schema = spambase.features();
    Dataset<Row> clean = train.select(columns(train));
    // the baseline adds the same rows with the same flipped labels, unoptimised: random flips of the same size
    Dataset<Row> optimised = new GradientPoisoning().apply(AttackContext.of(clean, schema,
        new AttackSpec("gradient", 0.1, 7, Map.of())));
    Dataset<Row> randomFlips = new GradientPoisoning().apply(AttackContext.of(clean, schema,
        new AttackSpec("gradient", 0.1, 7, Map.of("steps", "0"))));
    double before = validationLoss(train, validation, schema);
    double afterFlips = validationLoss(randomFlips, validation, schema);
    double afterGradient = validationLoss(optimised, validation, schema);

    assertTrue(afterGradient > afterFlips && afterFlips > before,
        "validation log-loss: clean " + before + ", random flips " + afterFlips + ", gradient " + afterGradient);
  }

  @Test
  void sameSeedWritesIdenticalFiles() throws Exception {
    Path first = attack("backdoor", 0.05, Map.of());
    byte[] data = Files.readAllBytes(first.resolve("data.csv"));
    byte[] truth = Files.readAllBytes(first.resolve("truth.csv"));
    Path again = dir.resolve("again");
    RedTeam.run(spambase, null, new AttackSpec("backdoor", 0.05, 7, Map.of()), again);
    assertArrayEquals(data, Files.readAllBytes(again.resolve("data.csv")));
    assertArrayEquals(truth, Files.readAllBytes(again.resolve("truth.csv")));
  }

  private static org.apache.spark.sql.Column[] columns(Dataset<Row> rows) {
    return java.util.Arrays.stream(rows.columns()).filter(c -> !c.startsWith(Columns.PREFIX))
        .map(functions::col).toArray(org.apache.spark.sql.Column[]::new);
  }

  /** Mean log-loss on {@code validation} of a logistic model trained on {@code train}. */
  private static double validationLoss(Dataset<Row> train, Dataset<Row> validation, FeatureSchema schema) {
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(schema).fit(train);
    LogisticRegressionModel model = new LogisticRegression().setFeaturesCol(Columns.FEATURES)
        .setLabelCol(Columns.LABEL_INDEX).setMaxIter(100).setRegParam(1e-3).fit(preparer.transform(train));
    return model.transform(preparer.transform(validation)).select(functions.avg(functions.negate(functions.log(
        functions.greatest(functions.lit(1e-12), functions.element_at(
            org.apache.spark.ml.functions.vector_to_array(functions.col("probability"), "float64"),
            functions.col(Columns.LABEL_INDEX).cast("int").plus(1))))))).head().getDouble(0);
  }
}
