package io.poisonguard.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.QuantileSketch;
import io.poisonguard.spark.SharedSpark;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(SharedSpark.class)
class ProfilerTest {
  private static Dataset<Row> spambase;
  private static FeatureSchema schema;

  @BeforeAll
  static void load() {
    spambase = SharedSpark.session().read().option("header", "true").option("inferSchema", "true")
        .csv("data/spambase.csv").cache();
    List<String> numeric = Arrays.stream(spambase.columns()).filter(c -> !c.equals("type")).toList();
    schema = new FeatureSchema("type", numeric, List.of());
  }

  @Test
  void columnStatisticsAgreeWithSpark() {
    Profile p = new Profiler().compute(spambase, schema, "r1");
    assertEquals(4601, p.rows());
    assertEquals(1813L, p.labelCounts().get("spam"));
    ColumnProfile c = p.column("capitalTotal");
    Row direct = spambase.agg(functions.min("capitalTotal"), functions.max("capitalTotal"),
        functions.avg("capitalTotal"), functions.stddev_samp("capitalTotal")).head();
    assertEquals(direct.getInt(0), c.min(), 0);
    assertEquals(direct.getInt(1), c.max(), 0);
    assertEquals(direct.getDouble(2), c.mean(), 1e-9);
    assertEquals(direct.getDouble(3), c.stddev(), 1e-9);
    double median = spambase.stat().approxQuantile("capitalTotal", new double[] {0.5}, 0)[0];
    assertEquals(median, c.quantiles().get(0.5), 0.02 * median);
    assertEquals(c.binEdges().size() + 2, c.binShares().size());
    assertEquals(1.0, c.binShares().stream().mapToDouble(Double::doubleValue).sum(), 1e-9);
  }

  @Test
  void nullNanAndInfinityAreCountedApart(SparkSession spark) {
    Dataset<Row> odd = spambase.limit(100).withColumn("make", functions.expr(
        "CASE WHEN capitalTotal % 4 = 0 THEN CAST('NaN' AS DOUBLE) WHEN capitalTotal % 4 = 1 THEN NULL "
            + "WHEN capitalTotal % 4 = 2 THEN CAST('Infinity' AS DOUBLE) ELSE make END"));
    long nan = odd.filter("capitalTotal % 4 = 0").count();
    long nulls = odd.filter("capitalTotal % 4 = 1").count();
    long inf = odd.filter("capitalTotal % 4 = 2").count();
    ColumnProfile c = new Profiler().compute(odd, schema, "r").column("make");
    assertEquals(nan, c.nan());
    assertEquals(nulls, c.nulls());
    assertEquals(inf, c.infinite());
    // min and max over the finite values only
    Row finite = odd.filter("make IS NOT NULL AND NOT isnan(make) AND make != CAST('Infinity' AS DOUBLE)")
        .agg(functions.min("make"), functions.max("make")).head();
    assertEquals(finite.getDouble(0), c.min(), 0);
    assertEquals(finite.getDouble(1), c.max(), 0);
  }

  @Test
  void binSharesAgreeWithExactCountsAndPlaceInfinityAndMissingExactly(SparkSession spark) {
    // every fourth value NaN, null or +∞, one row −∞: the sketch places only the finite ones
    Dataset<Row> odd = spambase.withColumn("capitalTotal", functions.expr(
        "CASE WHEN make = 0 AND capitalAve % 7 < 1 THEN CAST('NaN' AS DOUBLE) "
            + "WHEN make = 0 AND capitalAve % 7 < 2 THEN NULL "
            + "WHEN make = 0 AND capitalAve % 7 < 3 THEN CAST('Infinity' AS DOUBLE) "
            + "WHEN capitalLong = 1 THEN CAST('-Infinity' AS DOUBLE) ELSE CAST(capitalTotal AS DOUBLE) END"));
    ColumnProfile c = new Profiler().compute(odd, schema, "r").column("capitalTotal");
    List<Double> edges = c.binEdges();
    long rows = odd.count();
    double[] exact = new double[edges.size() + 2];
    for (int b = 0; b <= edges.size(); b++) {
      String above = b == 0 ? "true" : "capitalTotal > " + edges.get(b - 1);
      String below = b == edges.size() ? "true" : "capitalTotal <= " + edges.get(b);
      exact[b] = odd.filter("NOT isnan(capitalTotal) AND " + above + " AND " + below).count() / (double) rows;
    }
    exact[edges.size() + 1] = odd.filter("capitalTotal IS NULL OR isnan(capitalTotal)").count() / (double) rows;
    assertTrue(exact[0] > 0 && exact[edges.size()] > 0 && exact[edges.size() + 1] > 0);
    // each edge's rank within the sketch's error (under 2/k of the finite values), so a bin within twice that
    for (int b = 0; b < exact.length; b++) {
      assertEquals(exact[b], c.binShares().get(b), 4.0 / QuantileSketch.K, "bin " + b);
    }
    assertEquals(exact[edges.size() + 1], c.binShares().get(edges.size() + 1), 1e-12);
  }

  @Test
  void metricsTableRoundTripKeepsWhatDriftNeeds(SparkSession spark) {
    Profile p = new Profiler().compute(spambase, schema, "r1");
    Profile back = Profile.fromRows(p.toRows(spark, "pipe").collectAsList());
    assertEquals(p.rows(), back.rows());
    assertEquals(p.labelCounts(), back.labelCounts());
    assertEquals(p.column("make"), back.column("make"));
    assertEquals(p.columns().size(), back.columns().size());
  }

  @Test
  void aCategoricalColumnOfDistinctValuesIsNamedAsIdentifierLike() {
    Dataset<Row> withText = spambase.withColumn("row_key", functions.concat(functions.lit("r"),
            functions.monotonically_increasing_id().cast("string")))
        .withColumn("capital_band", functions.when(functions.col("capitalTotal").gt(100), "high").otherwise("low"));
    List<String> numeric = schema.numericFeatures();
    FeatureSchema mixed = new FeatureSchema("type", numeric, List.of("row_key", "capital_band"));
    Profile profile = new Profiler().compute(withText, mixed, "ids");
    System.out.println("row_key distinct: " + profile.column("row_key").distinct() + " of "
        + profile.column("row_key").count());
    assertEquals(List.of("row_key"), profile.identifierLikeColumns());
    // under 1,000 values a column is not judged by its distinct share
    assertEquals(List.of(), new Profiler().compute(withText.limit(500), mixed, "few").identifierLikeColumns());
  }

  @Test
  void psiIsSmallForTheSameDistributionAndLargeForAShift() {
    Dataset<Row>[] halves = spambase.randomSplit(new double[] {0.5, 0.5}, 7);
    Profiler profiler = new Profiler();
    Profile reference = profiler.compute(halves[0], schema, "ref");
    Profile other = profiler.compute(halves[1], schema, "b");
    DriftReport same = new DriftAnalyzer().compare(reference, other, halves[1], schema);
    assertTrue(same.maxPsi() < 0.05, "max PSI between random halves: " + same.maxPsi());
    assertTrue(same.maxLabelShareChange() < 0.03);

    Dataset<Row> shifted = halves[1].withColumn("capitalTotal", functions.col("capitalTotal").multiply(3));
    DriftReport moved = new DriftAnalyzer().compare(reference, profiler.compute(shifted, schema, "s"), shifted,
        schema);
    assertEquals("capitalTotal", moved.maxPsiFeature());
    assertTrue(moved.maxPsi() > 0.25, "PSI after tripling: " + moved.maxPsi());
  }

  @Test
  void labelShareChangeMatchesADirectComputation() {
    Dataset<Row> fewerSpam = spambase.filter(functions.col("type").notEqual("spam")
        .or(functions.rand(3).lt(0.5)));
    Profiler profiler = new Profiler();
    Profile reference = profiler.compute(spambase, schema, "ref");
    Profile current = profiler.compute(fewerSpam, schema, "cur");
    DriftReport d = new DriftAnalyzer().compare(reference, current, fewerSpam, schema);
    double expected = Math.abs(current.labelCounts().get("spam") / (double) current.rows() - 1813 / 4601.0);
    assertEquals(expected, d.labelShareChange().get("spam"), 1e-12);
    assertEquals(expected, d.maxLabelShareChange(), 1e-12);
    assertNotNull(d.summary().get("label_js_divergence"));
    // Jensen–Shannon divergence of the two label distributions, in bits
    double p = 1813 / 4601.0;
    double q = current.labelCounts().get("spam") / (double) current.rows();
    double js = 0;
    for (double[] pair : new double[][] {{p, q}, {1 - p, 1 - q}}) {
      double m = (pair[0] + pair[1]) / 2;
      js += 0.5 * pair[0] * Math.log(pair[0] / m) + 0.5 * pair[1] * Math.log(pair[1] / m);
    }
    assertEquals(js / Math.log(2), d.labelJensenShannon(), 1e-12);
  }

  @Test
  void partitionsMergeToTheSameProfile() {
    // one partition against seven: the per-task summaries travel serialized and merge in another order
    Profiler profiler = new Profiler();
    Profile whole = profiler.compute(spambase.coalesce(1), schema, "one");
    Profile split = profiler.compute(spambase.repartition(7, functions.col("capitalTotal")), schema, "seven");
    assertEquals(whole.rows(), split.rows());
    for (ColumnProfile a : whole.columns()) {
      ColumnProfile b = split.column(a.name());
      assertEquals(a.count(), b.count(), a.name());
      assertEquals(a.min(), b.min(), a.name());
      assertEquals(a.max(), b.max(), a.name());
      assertEquals(a.mean(), b.mean(), 1e-9 * Math.max(1, Math.abs(a.mean())), a.name());
      assertEquals(a.stddev(), b.stddev(), 1e-9 * Math.max(1, a.stddev()), a.name());
      // sketches: the distinct count within HLL's error, the median within the KLL rank error of the exact one
      assertEquals(a.distinct(), b.distinct(), Math.max(2, 0.05 * a.distinct()), a.name());
      double[] bounds = spambase.stat().approxQuantile(a.name(), new double[] {0.49, 0.51}, 0);
      double median = b.quantiles().get(0.5);
      assertTrue(median >= bounds[0] && median <= bounds[1], a.name() + " median " + median + " outside "
          + Arrays.toString(bounds));
    }
  }
}
