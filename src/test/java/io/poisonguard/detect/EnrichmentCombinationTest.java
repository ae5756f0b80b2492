package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The enrichment-weighted union bound: known answers on its tables, and its behaviour on p-values with a known truth. */
@ExtendWith(SharedSpark.class)
class EnrichmentCombinationTest {
  private static final int ROWS = 20_000;

  @Test
  void poolAdjacentViolatorsGivesTheWeightedNonDecreasingFit() {
    double[] fit = EnrichmentCombination.Tables.nonDecreasing(new double[] {0, 2, 1, 3, 0}, new double[] {1, 1, 3, 1, 1});
    // 2 and 1 pool to (2 + 3) / 4 = 1.25; then 3 and 0 pool to 1.5
    assertArrayEquals(new double[] {0, 1.25, 1.25, 1.5, 1.5}, fit, 1e-12);
  }

  @Test
  void uniformCountsGiveNoEvidenceAndTheBoundIsBonferronis() {
    int bins = EnrichmentCombination.EDGES.length;
    long rows = 1_000_000;
    long[] uniform = new long[bins];
    for (int b = 0; b < bins; b++) {
      double upper = b + 1 < bins ? Math.pow(10, -EnrichmentCombination.EDGES[b + 1]) : 0;
      uniform[b] = Math.round(rows * (Math.pow(10, -EnrichmentCombination.EDGES[b]) - upper));
    }
    double[] ratios = EnrichmentCombination.Tables.logRatios(uniform, rows);
    for (double r : ratios) {
      assertEquals(0, r, 1e-3);
    }
    EnrichmentCombination.Tables tables = new EnrichmentCombination.Tables(new double[][] {new double[bins],
        new double[bins], new double[bins]});
    // with no detector enriched, a row whose smallest p is 1e-4 gets 3 × 1e-4
    double score = tables.evidence(0, 1e-4);
    assertEquals(3e-4, tables.pValue(score), 1e-9);
    assertEquals(1.0, tables.pValue(tables.evidence(0, 0.5)));
  }

  @Test
  void theEnrichedDetectorCarriesTheRankingTheFlagAndTheReasons(SparkSession spark) {
    // Three detectors' p-values, uniform on clean rows (seeded hashes). 5% poison rows: detector "seer" gives
    // them p in (0, 1e-3]; "noise" and "other" see nothing.
    Column poison = uniform("poison").lt(0.05);
    Dataset<Row> rows = spark.range(ROWS).withColumn("poison", poison)
        .withColumn("p_seer", when(poison, uniform("seer").multiply(1e-3)).otherwise(uniform("seer")))
        .withColumn("p_noise", uniform("noise"))
        .withColumn("p_other", uniform("other"))
        .cache();
    List<String> names = List.of("seer", "noise", "other");
    List<Column> p = names.stream().map(n -> col("p_" + n)).toList();
    List<Column> reasons = names.stream().map(n -> concat(lit(n + ":p="), col("p_" + n).cast("string"))).toList();
    Dataset<Row> out = new EnrichmentCombination().combine(rows, p, reasons, 0.01).cache();
    try {
      Row rates = out.selectExpr(
          "avg(case when not poison then cast(" + Columns.FLAGGED + " as double) end)",
          "avg(case when poison then cast(" + Columns.FLAGGED + " as double) end)").first();
      double auc = Spambase.auc(out, Columns.POISON_SCORE, "poison");
      System.out.printf("enrichment on synthetic p-values: clean flagged %.4f, poison flagged %.3f, ROC-AUC %.4f%n",
          rates.getDouble(0), rates.getDouble(1), auc);
      // Simes would need p ≤ 0.01/3 from the seer alone; the enrichment gives the seer the whole 1% budget
      assertTrue(rates.getDouble(1) > 0.99, "poison recall " + rates.getDouble(1));
      assertTrue(rates.getDouble(0) <= 0.015, "clean flag rate " + rates.getDouble(0));
      assertTrue(auc > 0.99, "ROC-AUC " + auc);
      // The seer leads every flagged poison row's reasons; a blind detector is named only where its own p is as
      // small as the flag's threshold asks of it (a few tenths of a per cent of rows, by chance).
      Dataset<Row> caught = out.where(col(Columns.FLAGGED).and(col("poison")));
      assertEquals(0, caught.where("not " + Columns.REASONS + "[0] like 'seer:%'").count());
      long othersNamed = caught.where("exists(" + Columns.REASONS + ", r -> r not like 'seer:%')").count();
      assertTrue(othersNamed <= 0.02 * caught.count(), othersNamed + " rows name a blind detector too");
    } finally {
      out.unpersist();
      rows.unpersist();
    }
  }

  /** A seeded uniform in (0, 1) per row, one stream per salt. */
  private static Column uniform(String salt) {
    return pmod(xxhash64(col("id"), lit(salt)), lit(1L << 40)).plus(0.5).divide((double) (1L << 40));
  }
}
