package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.rand;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.KryoRegistration;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Duplicates and floods on spambase. The duplicates detector flags a row whose label is outvoted by its
 * near-copies and leaves spambase's own large, label-consistent groups of identical rows alone; a flood of
 * near-copies that agree with each other is caught by the label-aware detectors, whose copies never vouch
 * for each other.
 */
class DuplicateTest extends OnSpambase {
  private static final String SCORE = PoisonDetector.scoreColumn(DuplicateDetector.CODE);
  private static final String EVIDENCE = PoisonDetector.evidenceColumn(DuplicateDetector.CODE);
  private static final String FLOOD = "flood";
  private static final long COPY_IDS = 1_000_000_000L;

  /**
   * {@code copies} copies of each of {@code bases} seeded rows, every feature moved by uniform noise of at most
   * {@code noise} of its 5–95% spread, with the original label or the other class ({@code flip}); marked in
   * column {@value #FLOOD} when flipped. Ids start at {@code firstId}.
   */
  private Dataset<Row> copies(SparkSession spark, int bases, int copies, double noise, boolean flip, long firstId) {
    List<String> features = data.schema.numericFeatures();
    double[][] bounds = data.clean.stat().approxQuantile(features.toArray(new String[0]),
        new double[] {0.05, 0.95}, 1e-3);
    Dataset<Row> added = data.clean.where(col(Columns.ID).isin(Spambase.pick(bases, 11).toArray()))
        .crossJoin(spark.range(copies).withColumnRenamed("id", "copy"));
    for (int i = 0; i < features.size() && noise > 0; i++) {
      double spread = Math.max(bounds[i][1] - bounds[i][0], 1e-3);
      added = added.withColumn(features.get(i),
          col(features.get(i)).plus(rand(100 + i).minus(0.5).multiply(2 * noise * spread)));
    }
    Column other = when(col("type").equalTo("spam"), lit("nonspam")).otherwise(lit("spam"));
    return added.withColumn("type", flip ? other : col("type"))
        .withColumn(Columns.ID, col(Columns.ID).multiply(1000).plus(col("copy")).plus(firstId))
        .drop("copy").withColumn(FLOOD, lit(flip));
  }

  private Dataset<Row> cleanRows() {
    return data.clean.withColumn(FLOOD, lit(false));
  }

  private static Dataset<Row> prepare(Dataset<Row> batch, Spambase data) {
    return FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch);
  }

  @Test
  void aCopyOutvotedByItsGroupScoresItsConflictsAndNaturalGroupsDoNot(SparkSession spark) {
    // Three rows, each with two faithful copies and one copy carrying the other class.
    Dataset<Row> batch = cleanRows().unionByName(copies(spark, 3, 2, 0, false, COPY_IDS))
        .unionByName(copies(spark, 3, 1, 0, true, 2 * COPY_IDS));
    Dataset<Row> prepared = prepare(batch, data).cache();
    Dataset<Row> scored = new DuplicateDetector().setSeed(3).fit(prepared).transform(prepared).cache();
    List<Row> flipped = scored.where(col(FLOOD)).select(SCORE, EVIDENCE).collectAsList();
    assertEquals(3, flipped.size());
    for (Row row : flipped) {
      assertTrue(row.getDouble(0) >= 3, "flipped copy scores " + row.getDouble(0));
      assertTrue(row.getString(1).matches("group=\\d+,conflicting=\\d+"), row.getString(1));
    }
    // The majority of each group is the group's own evidence: the originals and faithful copies score 0.
    Set<Long> bases = Spambase.pick(3, 11);
    Column family = col(Columns.ID).isin(bases.toArray()).or(col(Columns.ID).geq(COPY_IDS));
    assertEquals(0, scored.where(family.and(not(col(FLOOD))).and(col(SCORE).gt(0))).count());
    // Spambase's own duplicates (groups of up to 69 identical rows) nearly all agree on their label.
    long natural = scored.where(not(family).and(col(SCORE).gt(0))).count();
    System.out.printf("duplicates: %d of %d spambase rows outvoted by their near-copies%n", natural, Spambase.ROWS);
    assertTrue(natural <= 0.01 * Spambase.ROWS, natural + " natural conflicts");
    assertEquals(0, scored.where(col(SCORE).gt(0).and(col(EVIDENCE).isNull())).count(),
        "every scored row carries evidence");
    scored.unpersist();
    prepared.unpersist();
  }

  @Test
  void aFloodOfNearCopiesCannotVouchForItself(SparkSession spark) {
    Dataset<Row> prepared = prepare(cleanRows().unionByName(copies(spark, 5, 92, 0.01, true, COPY_IDS)), data).cache();
    Dataset<Row> scored = new KnnLabelDetector().setSeed(3).fit(prepared).transform(
        new LabelConsistencyDetector().setSeed(3).fit(prepared).transform(prepared)).cache();
    double consistency = Spambase.auc(scored, PoisonDetector.scoreColumn(LabelConsistencyDetector.CODE), FLOOD);
    double knn = Spambase.auc(scored, PoisonDetector.scoreColumn(KnnLabelDetector.CODE), FLOOD);
    System.out.printf("flood of 5 × 92 near-copies: label_consistency AUC %.4f, knn_label AUC %.4f%n",
        consistency, knn);
    assertTrue(consistency >= 0.93, "label_consistency AUC " + consistency);
    assertTrue(knn >= 0.80, "knn_label AUC " + knn);
    scored.unpersist();
    prepared.unpersist();
  }

  @Test
  void sameSeedSameScoresAndSaveLoadRoundTrip(SparkSession spark, @TempDir Path dir) throws IOException {
    Dataset<Row> prepared = prepare(cleanRows().unionByName(copies(spark, 3, 2, 0, true, COPY_IDS)), data).cache();
    DuplicateModel model = new DuplicateDetector().setSeed(3).fit(prepared);
    Dataset<Row> scored = model.transform(prepared).cache();
    assertTrue(scored.where(col(SCORE).gt(0)).count() > 0, "the outvoted originals score");
    assertEquals(0, ScoreDifferences.count(scored,
        new DuplicateDetector().setSeed(3).fit(prepared).transform(prepared), SCORE, EVIDENCE));
    model.write().save(dir.resolve("dup").toString());
    assertEquals(0, ScoreDifferences.count(scored,
        DuplicateModel.load(dir.resolve("dup").toString()).transform(prepared), SCORE, EVIDENCE));
    scored.unpersist();
    prepared.unpersist();
  }

  @Test
  void broadcastAndShuffleLookupsGiveTheSameScoresAndEvidence(SparkSession spark) {
    Dataset<Row> prepared = prepare(cleanRows().unionByName(copies(spark, 3, 2, 0, false, COPY_IDS))
        .unionByName(copies(spark, 3, 1, 0, true, 2 * COPY_IDS)), data).cache();
    DuplicateModel model = new DuplicateDetector().setSeed(3).fit(prepared);
    Dataset<Row> broadcast = model.transform(prepared).cache();
    String threshold = "spark.sql.autoBroadcastJoinThreshold";
    String saved = spark.conf().get(threshold);
    Dataset<Row> shuffled;
    try {
      // Broadcasting off: the outvoted keys are joined back with a shuffle and never reach the driver.
      spark.conf().set(threshold, "-1");
      shuffled = model.transform(prepared).cache();
      assertTrue(shuffled.queryExecution().executedPlan().toString().contains("SortMergeJoin"),
          "the lookup is a shuffle join when broadcasting is off");
      shuffled.count();
    } finally {
      spark.conf().set(threshold, saved);
    }
    assertTrue(broadcast.where(col(SCORE).gt(0)).count() >= 3, "the flipped copies score");
    assertSameScoresAndEvidence(broadcast, shuffled);
    broadcast.unpersist();
    shuffled.unpersist();
    prepared.unpersist();
  }

  @Test
  void aCopyCountedOnItsPopulationScoresItAsTransformDoesAndAnyPartOfItByThePopulationsGroups(SparkSession spark) {
    Dataset<Row> prepared = prepare(cleanRows().unionByName(copies(spark, 3, 2, 0, false, COPY_IDS))
        .unionByName(copies(spark, 3, 1, 0, true, 2 * COPY_IDS)), data).cache();
    DuplicateModel model = new DuplicateDetector().setSeed(3).fit(prepared);
    DuplicateModel counted = model.againstRowsOf(prepared);
    assertEquals(model.uid(), counted.uid());
    assertEquals(model.getScoreCol(), counted.getScoreCol());
    assertTrue(model.rowScorer().isEmpty(), "a model that counts what it transforms has nothing to look up yet");
    assertTrue(counted.rowScorer().isPresent(), "a counted copy holding its few triples looks each row up");
    Dataset<Row> direct = model.transform(prepared).cache();
    Dataset<Row> once = counted.transform(prepared).cache();
    assertEquals(joins(prepared), joins(direct), "few outvoted triples are looked up, not joined");
    assertEquals(joins(prepared), joins(once), "the counted copy joins nothing to its input either");
    assertTrue(direct.where(col(SCORE).gt(0)).count() >= 3, "the flipped copies score");
    assertSameScoresAndEvidence(direct, once);
    // with several tables a row scores its largest count over its groups, ties going to the larger group
    DuplicateModel threeTables = new DuplicateDetector().setNumTables(3).setNumProjections(2).setSeed(3).fit(prepared);
    Dataset<Row> joined = threeTables.transform(prepared).cache();
    assertTrue(joined.where(col(SCORE).gt(0)).count() >= 3, "the flipped copies score in some table");
    assertSameScoresAndEvidence(joined, threeTables.againstRowsOf(prepared).transform(prepared));
    joined.unpersist();
    // Alone, the flipped copies agree with each other; against the population they are outvoted by their groups.
    Dataset<Row> flippedOnly = prepared.where(col(FLOOD));
    assertEquals(0, model.transform(flippedOnly).where(col(SCORE).gt(0)).count());
    assertEquals(3, counted.transform(flippedOnly).where(col(SCORE).geq(3)).count());
    direct.unpersist();
    once.unpersist();
    prepared.unpersist();
  }

  @Test
  void aCountedCopysLookupTravelsUnderKryo(SparkSession spark) {
    Dataset<Row> prepared = prepare(cleanRows().unionByName(copies(spark, 3, 2, 0, false, COPY_IDS))
        .unionByName(copies(spark, 3, 1, 0, true, 2 * COPY_IDS)), data).cache();
    DuplicateModel counted = new DuplicateDetector().setSeed(3).fit(prepared).againstRowsOf(prepared);
    RowScoringModel.RowScorer scorer = counted.rowScorer().orElseThrow();
    // what a cluster with spark.serializer=KryoSerializer does with the broadcast scorers
    SerializerInstance kryo = new KryoSerializer(new SparkConf()
        .set("spark.kryo.registrator", KryoRegistration.class.getName())).newInstance();
    ClassTag<Object> any = ClassTag$.MODULE$.AnyRef();
    RowScoringModel.RowScorer travelled =
        (RowScoringModel.RowScorer) kryo.deserialize(kryo.serialize(scorer, any), any);
    List<Row> rows = new ArrayList<>(
        prepared.where(col(FLOOD)).select(Columns.FEATURES, Columns.LABEL_INDEX).collectAsList());
    rows.addAll(
        prepared.where(not(col(FLOOD))).select(Columns.FEATURES, Columns.LABEL_INDEX).limit(50).collectAsList());
    int outvoted = 0;
    for (Row r : rows) {
      PreparedRow row = new PreparedRow(r.getAs(0));
      RowScoringModel.Score here = scorer.score(row, r.getDouble(1));
      RowScoringModel.Score there = travelled.score(row, r.getDouble(1));
      assertEquals(here.value(), there.value());
      assertEquals(here.evidence(), there.evidence());
      outvoted += here.value() > 0 ? 1 : 0;
    }
    assertEquals(3, outvoted, "the three flipped copies are outvoted by their groups");
    prepared.unpersist();
  }

  @Test
  void aCountedCopysCountsGiveItsScoresOverThePopulationAndTheirCalibration(SparkSession spark) {
    Dataset<Row> prepared = prepare(cleanRows().unionByName(copies(spark, 3, 2, 0, false, COPY_IDS))
        .unionByName(copies(spark, 3, 1, 0, true, 2 * COPY_IDS)), data).cache();
    DuplicateModel model = new DuplicateDetector().setSeed(3).fit(prepared);
    assertTrue(model.countedScores().isEmpty(), "a model that counts what it transforms has no population yet");
    DuplicateModel counted = model.againstRowsOf(prepared);
    Dataset<Row> fromCounts = counted.countedScores().orElseThrow();
    Dataset<Row> scored = counted.transform(prepared).cache();
    Map<Double, Long> byRow = histogram(scored.groupBy(col(SCORE)).count());
    assertEquals(byRow, histogram(fromCounts.groupBy(col(DetectorModel.COUNTED_SCORE))
        .agg(sum(col(DetectorModel.COUNTED_ROWS)))));
    assertTrue(byRow.size() > 1 && byRow.get(0.0) < prepared.count(), "some rows score, most do not: " + byRow);
    TailCalibrator calibratedOnRows = TailCalibrator.fit(scored, List.of(SCORE), List.of(true),
        TailCalibrator.Reference.BATCH).get(0);
    TailCalibrator calibratedOnCounts = TailCalibrator.fit(fromCounts, List.of(DetectorModel.COUNTED_SCORE),
        DetectorModel.COUNTED_ROWS, List.of(true), TailCalibrator.Reference.BATCH).get(0);
    for (double score = 0; score <= 12; score += 0.5) {
      assertEquals(calibratedOnRows.pValue(score), calibratedOnCounts.pValue(score), "p-value of " + score);
    }
    // With two tables a row scores its largest count over its groups: the groups alone do not give it.
    assertTrue(new DuplicateDetector().setNumTables(2).setSeed(3).fit(prepared).againstRowsOf(prepared)
        .countedScores().isEmpty());
    scored.unpersist();
    prepared.unpersist();
  }

  /** Score → rows, from (score, rows) pairs. */
  private static Map<Double, Long> histogram(Dataset<Row> pairs) {
    Map<Double, Long> out = new TreeMap<>();
    pairs.collectAsList().forEach(r -> out.put(r.getDouble(0), r.getLong(1)));
    return out;
  }

  /** Joins in the physical plan of {@code rows}, those of its cached inputs included. */
  static int joins(Dataset<Row> rows) {
    return rows.queryExecution().executedPlan().toString().split("Join", -1).length - 1;
  }

  /** Asserts that {@code a} and {@code b} give every row the same score and the same evidence. */
  private static void assertSameScoresAndEvidence(Dataset<Row> a, Dataset<Row> b) {
    assertEquals(0, ScoreDifferences.count(a, b, SCORE, EVIDENCE));
  }
}
