package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Reject-on-negative-influence per source on spambase: a fifth of the rows is the trusted sample, the rest is
 * four feeds; a feed whose labels are flipped raises the trusted loss and is flagged, clean feeds are not.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SourceInfluenceTest {
  private static final long SEED = 7;
  private Spambase data;
  private Dataset<Row> trusted;
  private PoisonScorer.Fitted fitted;

  @BeforeAll
  void load(SparkSession spark) {
    data = Spambase.load(spark);
    trusted = data.clean.where(pmod(col(Columns.ID), lit(5)).equalTo(0));
    // The test is about the source test, not the detectors: one cheap detector keeps the scorer small.
    fitted = PoisonScorer.fit(trusted, data.schema, OneDetector.only(RobustZDetector.CODE), SEED, true);
  }

  @AfterAll
  void release() {
    data.release();
  }

  /** The non-trusted rows as feed-0..feed-3 by id; feed-3's labels flipped at {@code share}. */
  private Dataset<Row> feeds(double share) {
    Dataset<Row> batch = data.clean.where(pmod(col(Columns.ID), lit(5)).notEqual(0))
        .withColumn(Columns.SOURCE, concat(lit("feed-"), pmod(col(Columns.ID), lit(4)).cast("string")));
    Dataset<Row> flipped = Spambase.flip(batch, share, 42);
    return flipped.withColumn("type", when(col(Columns.SOURCE).equalTo("feed-3"), col("type"))
        .otherwise(when(col(Spambase.FLIPPED), when(col("type").equalTo("spam"), lit("nonspam"))
            .otherwise(lit("spam"))).otherwise(col("type"))));
  }

  @Test
  void aFeedWithFlippedLabelsRaisesTheTrustedLossAndIsFlagged() {
    List<SourceInfluence.Verdict> verdicts = SourceInfluence.judge(fitted, feeds(0.3), trusted, 0.01);
    verdicts.forEach(v -> System.out.println("source influence: " + v));
    assertEquals(4, verdicts.size());
    for (SourceInfluence.Verdict v : verdicts) {
      assertEquals(v.source().equals("feed-3"), v.flagged(), v.toString());
    }
    SourceInfluence.Verdict bad = verdicts.get(3);
    assertTrue(bad.lossWith() > bad.lossWithout(), bad.toString());
    assertTrue(bad.reason().startsWith("source_influence:feed=feed-3,trusted_loss_with="), bad.reason());
  }

  @Test
  void cleanFeedsAreLeftAlone() {
    List<SourceInfluence.Verdict> verdicts = SourceInfluence.judge(fitted, feeds(0), trusted, 0.01);
    verdicts.forEach(v -> System.out.println("source influence, clean feeds: " + v));
    assertEquals(4, verdicts.size());
    assertTrue(verdicts.stream().noneMatch(SourceInfluence.Verdict::flagged), verdicts.toString());
  }

  @Test
  void aSignificantButNegligibleSavingFlagsNoFeed() {
    // the 1M-row case of MIN_LOSS_SAVING: z = 34.8, trusted loss 0.2307 with the feed and 0.2305 without
    assertFalse(SourceInfluence.flags(0.2307, 0.2305, 1e-200, 0.01));
    // the smallest saving of the benchmark's bad feeds (letter: 1.3512 with, 1.2668 without, z = 15.2)
    assertTrue(SourceInfluence.flags(1.3512, 1.2668, 1e-50, 0.01));
    assertFalse(SourceInfluence.flags(1.3512, 1.2668, 0.02, 0.01), "not significant");
  }
}
