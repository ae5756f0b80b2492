package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.DetectConfig;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/**
 * How the shared preparation encodes a categorical value the reference never had, on Spambase with two added
 * columns: {@code stamp}, distinct on every row (a timestamp, a free-text note), and {@code band}, three values
 * each seen hundreds of times. A new stamp is expected (every reference stamp was seen once), so it encodes as
 * rare as a seen one; a new band is rarer than every seen band.
 */
class FeaturePreparerTest extends OnSpambase {
  private static final long SEED = 7;

  private Dataset<Row> withCategories() {
    return data.clean
        .withColumn("stamp", functions.concat(functions.lit("2012-"), col(Columns.ID).cast("string")))
        .withColumn("band", functions.when(col(Columns.ID).mod(10).equalTo(9), functions.lit("new"))
            .otherwise(functions.concat(functions.lit("b"), col(Columns.ID).mod(3).cast("string"))));
  }

  private FeatureSchema schema() {
    return new FeatureSchema("type", data.schema.numericFeatures(), List.of("stamp", "band"));
  }

  @Test
  void anUnseenValueIsAsRareAsASingletonWhenTheReferenceHasSingletons() {
    Dataset<Row> rows = withCategories();
    // the reference: a fifth of the rows, none of whose stamps and no "new" band the others share
    Dataset<Row> reference = rows.where(col(Columns.ID).mod(5).equalTo(0).and(col("band").notEqual("new")));
    long n = reference.count();
    FeaturePreparerModel model = FeaturePreparer.forSchema(schema()).fit(reference);
    int numeric = data.schema.numericFeatures().size();
    Row seen = model.transform(reference).select(Columns.FEATURES).first();
    Row unseen = model.transform(rows.where(col(Columns.ID).mod(5).equalTo(4).and(col("band").equalTo("new"))))
        .select(Columns.FEATURES).first();
    double[] a = ((Vector) seen.get(0)).toArray();
    double[] b = ((Vector) unseen.get(0)).toArray();
    assertEquals(-Math.log(1.0 / n), a[numeric], 1e-12, "a seen stamp: seen once");
    assertEquals(a[numeric], b[numeric], 1e-12, "an unseen stamp encodes as a seen one");
    long smallestBand = reference.groupBy("band").count().agg(functions.min("count")).head().getLong(0);
    assertEquals(-Math.log(smallestBand / 2.0 / n), b[numeric + 1], 1e-12, "an unseen band: rarer than any");
    assertTrue(b[numeric + 1] > a[numeric + 1] + Math.log(2) - 1e-9, "rarer than the seen band");
  }

  /**
   * Fitted on a clean trusted fifth, a clean batch whose every row has a stamp the trusted rows never had is flagged
   * at about the target rate. When unseen stamps encoded rarer than seen ones, every batch row sat off the trusted
   * rows on that feature: the robust Mahalanobis distance made it 10^13 (a constant feature's rounding noise taken
   * as its variance), and 94% of a 950-row batch of real data with a date column was flagged.
   */
  @Test
  void aColumnOfDistinctValuesLeavesACleanBatchAtTheTargetRate() {
    Dataset<Row> rows = withCategories().drop("band");
    FeatureSchema schema = new FeatureSchema("type", data.schema.numericFeatures(), List.of("stamp"));
    Dataset<Row> trusted = rows.where(col(Columns.ID).mod(5).equalTo(0));
    Dataset<Row> batch = rows.where(col(Columns.ID).mod(5).notEqual(0));
    PoisonScorer.Scored scored = PoisonScorer.fitAndScore(batch, trusted, schema, DetectConfig.defaults(), SEED);
    try {
      assertTrue(scored.trustedSetAside().isEmpty());
      Row r = scored.rows().agg(functions.count(functions.lit(1)),
          functions.sum(functions.when(col(Columns.FLAGGED), 1).otherwise(0))).head();
      double rate = r.getLong(1) / (double) r.getLong(0);
      List<String> reasons = new ArrayList<>();
      scored.rows().where(col(Columns.FLAGGED)).select(functions.concat_ws(";", col(Columns.REASONS))).limit(5)
          .collectAsList().forEach(x -> reasons.add(x.getString(0)));
      System.out.printf("clean batch, distinct stamps, trusted fifth: %.4f flagged%n", rate);
      assertTrue(rate <= 0.02, rate + " of the clean batch flagged, e.g. " + reasons);
    } finally {
      scored.release();
    }
  }
}
