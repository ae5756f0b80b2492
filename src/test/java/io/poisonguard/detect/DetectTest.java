package io.poisonguard.detect;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.ConfigException;
import io.poisonguard.config.DetectConfig;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The detect stage on real spambase data (4601 rows, 57 numeric features, label {@code type}). */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DetectTest {
  private static final long SEED = 7;

  private SparkSession spark;
  private Spambase spambase;
  private Dataset<Row> clean;
  private FeatureSchema schema;
  /** Batch-mode fit on clean spambase, shared by the false-positive and determinism tests (fits cost seconds). */
  private PoisonScorer.Fitted batchFit;

  @BeforeAll
  void load(SparkSession session) {
    spark = session;
    spambase = Spambase.load(session);
    clean = spambase.clean;
    schema = spambase.schema;
    assertEquals(4601, clean.count());
    assertEquals(4600L, clean.agg(max(Columns.ID)).first().getLong(0));
  }

  @AfterAll
  void release() {
    spambase.release();
  }

  @Test
  void preparerImputesScalesRobustlyAndIndexesLabels() {
    FeaturePreparerModel model = FeaturePreparer.forSchema(schema).fit(clean);
    assertEquals(List.of("nonspam", "spam"), model.labels());
    int total = schema.numericFeatures().indexOf("capitalTotal");
    int make = schema.numericFeatures().indexOf("make");
    int your = schema.numericFeatures().indexOf("your");
    // capitalTotal: median 95, MAD 77 -> 1.4826 * MAD.
    assertEquals(95.0, model.medians()[total], 1e-9);
    assertEquals(1.4826 * 77, model.scales()[total], 1e-9);
    // make: MAD and IQR are 0 (zero-inflated) -> 1.2533 * mean |x - median|.
    assertEquals(1.2533 * 0.10455335796565964, model.scales()[make], 1e-6);
    assertEquals(1.4826 * 0.22, model.scales()[your], 1e-9);

    Row row = model.transform(clean.where(col(Columns.ID).equalTo(0)))
        .select(col("capitalTotal"), col(Columns.FEATURES), col(Columns.LABEL_INDEX)).first();
    Vector v = row.getAs(1);
    assertEquals(57, v.size());
    assertEquals((row.getDouble(0) - 95.0) / (1.4826 * 77), v.apply(total), 1e-9);
    assertEquals(1.0, row.getDouble(2)); // row 0 is spam
    assertEquals("capitalTotal", FeatureNames.of(model.transform(clean), Columns.FEATURES)[total]);
  }

  @Test
  void preparerEncodesCategoriesAndUnseenValues() {
    StructType struct = new StructType().add("x", DataTypes.DoubleType).add("color", DataTypes.StringType)
        .add("label", DataTypes.StringType);
    Dataset<Row> fit = spark.createDataFrame(List.of(RowFactory.create(1.0, "red", "b"),
        RowFactory.create(2.0, "red", "a"), RowFactory.create(3.0, "red", "a"), RowFactory.create(4.0, "blue", "b")),
        struct);
    FeaturePreparerModel model = FeaturePreparer.forSchema(new FeatureSchema("label", List.of("x"), List.of("color")))
        .fit(fit);
    assertEquals(List.of("a", "b"), model.labels());
    Dataset<Row> batch = spark.createDataFrame(List.of(RowFactory.create(null, "red", "a"),
        RowFactory.create(Double.NaN, "green", "zzz")), struct);
    List<Row> out = model.transform(batch).select(Columns.FEATURES, Columns.LABEL_INDEX).collectAsList();
    Vector first = out.get(0).getAs(0);
    Vector second = out.get(1).getAs(0);
    assertEquals(0.0, first.apply(0), 1e-12); // null imputed with the median
    assertEquals(0.0, second.apply(0), 1e-12); // NaN too
    assertEquals(-Math.log(3.0 / 4), first.apply(1), 1e-12);
    // unseen: as rare as "blue", the value seen once (without such a value, rarer than all: FeaturePreparerTest)
    assertEquals(-Math.log(1.0 / 4), second.apply(1), 1e-12);
    assertEquals(0.0, out.get(0).getDouble(1));
    assertTrue(Double.isNaN(out.get(1).getDouble(1))); // unseen label
    ConfigException missing = assertThrows(ConfigException.class, () -> model.transform(batch.drop("color")));
    assertTrue(missing.getMessage().contains("'color'"), missing.getMessage());
  }

  @Test
  void robustZFindsInjectedOutliersAndNamesTheFeature() {
    // "your" (word frequency, %) multiplied by 50 on rows where it is at least 1: values of 50+ against a
    // clean maximum of 11. Rows where it is tiny are left out on purpose: 0.1 x 50 = 5 is an ordinary value,
    // and on heavy-tailed features (capitalTotal) x50 of a small value stays inside the clean tail.
    List<Long> eligible = clean.where(col("your").geq(1)).select(Columns.ID).as(Encoders.LONG()).collectAsList();
    Set<Long> injected = new TreeSet<>();
    Random random = new Random(1);
    while (injected.size() < 20) {
      injected.add(eligible.get(random.nextInt(eligible.size())));
    }
    Column hit = col(Columns.ID).isin(injected.toArray());
    Dataset<Row> batch = clean.withColumn("your", when(hit, col("your").multiply(50)).otherwise(col("your")))
        .withColumn("injected", hit);
    PoisonScorer.Fitted fitted = PoisonScorer.fit(clean, schema, DetectConfig.defaults(), SEED, true);
    assertEquals(List.of("robust_z", "isolation_forest"), fitted.detectorCodes().subList(0, 2));
    Dataset<Row> out = fitted.transform(batch).cache();
    try {
      List<Row> rows = out.where(col("injected")).select(Columns.FLAGGED, Columns.REASONS).collectAsList();
      long caught = rows.stream().filter(r -> r.getBoolean(0)).count();
      long named = rows.stream().filter(r -> r.getList(1).stream()
          .anyMatch(s -> s.toString().startsWith("robust_z:feature=your,z="))).count();
      double falsePositives = out.where(col("injected").unary_$bang())
          .agg(avg(col(Columns.FLAGGED).cast("double"))).first().getDouble(0);
      System.out.printf("robust_z injection (trusted fit): recall %d/20, evidence names the feature %d/20,"
          + " clean flagged %.4f%n", caught, named, falsePositives);
      assertTrue(caught >= 18, "recall " + caught + "/20");
      assertTrue(named >= 16, "evidence named the feature " + named + "/20");
      assertFalse(Arrays.asList(out.columns()).contains(Columns.FEATURES));
      assertFalse(Arrays.asList(out.columns()).contains(PoisonDetector.evidenceColumn("robust_z")));
      Row any = out.where(col(Columns.FLAGGED)).first();
      double score = any.getAs(Columns.POISON_SCORE);
      assertTrue(score >= 0.99 && score <= 1.0, "poison score " + score);
    } finally {
      out.unpersist();
    }
  }

  @Test
  void isolationForestRanksFarOutRowsAboveCleanRows() {
    Set<Long> injected = Spambase.pick(20, 2);
    Column hit = col(Columns.ID).isin(injected.toArray());
    Random random = new Random(3);
    Dataset<Row> batch = clean.withColumn("injected", hit);
    // Far out: five features of each injected row set to three times the feature's clean maximum.
    List<String> features = new ArrayList<>(schema.numericFeatures());
    for (int i = 0; i < 5; i++) {
      String f = features.remove(random.nextInt(features.size()));
      double top = clean.agg(max(f)).first().getDouble(0);
      batch = batch.withColumn(f, when(hit, lit(3 * top)).otherwise(col(f)));
    }
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {FeaturePreparer.forSchema(schema),
        new IsolationForestDetector().setSeed(SEED)});
    Dataset<Row> scored = pipeline.fit(clean).transform(batch)
        .withColumn("truth", col("injected").cast("double"));
    double auc = new BinaryClassificationEvaluator().setLabelCol("truth")
        .setRawPredictionCol(PoisonDetector.scoreColumn("isolation_forest")).evaluate(scored);
    System.out.printf("isolation_forest AUC on 20 far-out rows: %.4f%n", auc);
    assertTrue(auc >= 0.9, "AUC " + auc);
  }

  @Test
  void cleanSpambaseFlagRateStaysNearTarget() {
    double batchRate = flaggedRate(batchFit().transform(clean));
    Dataset<Row>[] halves = clean.randomSplit(new double[] {0.5, 0.5}, SEED);
    PoisonScorer.Fitted trusted = PoisonScorer.fit(halves[0], schema, DetectConfig.defaults(), SEED, true);
    double trustedRate = flaggedRate(trusted.transform(halves[1]));
    System.out.printf("clean spambase flagged at target 1%%: batch-mode %.4f, trusted half -> other half %.4f%n",
        batchRate, trustedRate);
    assertTrue(batchRate <= 0.03, "batch-mode flagged rate " + batchRate);
    assertTrue(trustedRate <= 0.03, "trusted-mode flagged rate " + trustedRate);
  }

  @Test
  void sameSeedGivesSameScores() {
    PoisonScorer.Fitted again = PoisonScorer.fit(clean, schema, DetectConfig.defaults(), SEED, false);
    String forest = PoisonDetector.scoreColumn("isolation_forest");
    assertEquals(0, ScoreDifferences.count(batchFit().transform(clean), again.transform(clean),
        forest, PoisonDetector.scoreColumn("robust_z"), Columns.POISON_SCORE));
  }

  @Test
  void saveLoadRoundTripGivesIdenticalScores(@TempDir Path dir) throws IOException {
    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {FeaturePreparer.forSchema(schema),
        new RobustZDetector().setTailLevel(0.99), new IsolationForestDetector().setNumTrees(20).setSeed(SEED)});
    pipeline.write().save(dir.resolve("pipeline").toString());
    Pipeline loadedPipeline = Pipeline.load(dir.resolve("pipeline").toString());
    PipelineStage[] stages = loadedPipeline.getStages();
    assertEquals(20, ((IsolationForestDetector) stages[2]).getNumTrees());
    assertEquals(0.99, ((RobustZDetector) stages[1]).getTailLevel());
    assertEquals(57, ((FeaturePreparer) stages[0]).getOrDefault(((FeaturePreparer) stages[0]).numericCols()).length);

    PipelineModel model = pipeline.fit(clean);
    model.write().save(dir.resolve("model").toString());
    PipelineModel loaded = PipelineModel.load(dir.resolve("model").toString());
    assertEquals(0, ScoreDifferences.count(model.transform(clean), loaded.transform(clean),
        PoisonDetector.scoreColumn("robust_z"), PoisonDetector.scoreColumn("isolation_forest")));
    // A model stage on its own too, outside a pipeline.
    RobustZModel single = (RobustZModel) model.stages()[1];
    single.write().overwrite().save(dir.resolve("z").toString());
    assertEquals(single.getScoreCol(), RobustZModel.load(dir.resolve("z").toString()).getScoreCol());
  }

  @Test
  void registryRejectsUnknownDetectorsAndSettings() {
    ConfigException detector = assertThrows(ConfigException.class,
        () -> DetectorRegistry.validate(Map.of("lof", Map.of())));
    assertTrue(detector.getMessage().startsWith("detect.detectors.lof: unknown detector; known: robust_z,"),
        detector.getMessage());
    ConfigException key = assertThrows(ConfigException.class,
        () -> DetectorRegistry.validate(Map.of("isolation_forest", Map.of("num_tree", 5))));
    assertTrue(key.getMessage().startsWith("detect.detectors.isolation_forest.num_tree: unknown setting; known: "
        + "enabled, max_samples, num_trees, seed"), key.getMessage());
    ConfigException type = assertThrows(ConfigException.class,
        () -> DetectorRegistry.validate(Map.of("isolation_forest", Map.of("num_trees", "many"))));
    assertEquals("detect.detectors.isolation_forest.num_trees must be a whole number, got 'many'", type.getMessage());
    ConfigException range = assertThrows(ConfigException.class,
        () -> DetectorRegistry.validate(Map.of("robust_z", Map.of("tail_level", 1.5))));
    assertTrue(range.getMessage().startsWith("detect.detectors.robust_z.tail_level: value 1.5 is out of range"));
    assertEquals(List.of("enabled", "min_class_count", "tail_level"), DetectorRegistry.knownSettings("robust_z"));

    List<DetectorEstimator<?>> built = DetectorRegistry.build(Map.of("robust_z", Map.of("enabled", false),
        "isolation_forest", Map.of("num_trees", 7)), 99);
    // every registered detector but robust_z (switched off) and knn_shapley (off unless enabled)
    assertEquals(DetectorRegistry.names().size() - 2, built.size());
    IsolationForestDetector forest = (IsolationForestDetector) built.get(0);
    assertEquals(7, forest.getNumTrees());
    assertEquals(99L, forest.getSeed());
  }

  private PoisonScorer.Fitted batchFit() {
    if (batchFit == null) {
      batchFit = PoisonScorer.fit(clean, schema, DetectConfig.defaults(), SEED, false);
    }
    return batchFit;
  }

  private static double flaggedRate(Dataset<Row> scored) {
    return scored.agg(avg(col(Columns.FLAGGED).cast("double"))).first().getDouble(0);
  }
}
