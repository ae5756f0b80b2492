package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.DetectConfig;
import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;

/** Provenance on spambase split into four feeds: a feed with 30% flipped labels is flagged as a whole. */
class SourceScreenTest extends OnSpambase {
  private static final long SEED = 7;

  /** Spambase with {@code _pg_source} = feed-0..feed-3 by id; feed-3's labels flipped at {@code share}. */
  private Dataset<Row> feeds(double share) {
    Dataset<Row> rows = Spambase.flip(data.clean, share, 42)
        .withColumn(Columns.SOURCE, concat(lit("feed-"), pmod(col(Columns.ID), lit(4)).cast("string")));
    // Only feed-3 keeps its flips; the other feeds keep their true labels.
    Dataset<Row> truth = data.clean.select(col(Columns.ID), col("type").as("true_type"));
    return rows.join(truth, Columns.ID)
        .withColumn("type", when(col(Columns.SOURCE).equalTo("feed-3"), col("type")).otherwise(col("true_type")))
        .withColumn(Spambase.FLIPPED, col(Spambase.FLIPPED).and(col(Columns.SOURCE).equalTo("feed-3")))
        .drop("true_type");
  }

  private static Dataset<Row> score(Dataset<Row> batch, Spambase data) {
    return PoisonScorer.fit(batch, data.schema, DetectConfig.defaults(), SEED, false).transform(batch)
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  @Test
  void aFeedWithManyFlippedLabelsIsFlaggedAsAWhole() {
    Dataset<Row> rows = score(feeds(0.3), data);
    List<SourceScreen.Verdict> verdicts = SourceScreen.judge(rows, 0.01).verdicts();
    verdicts.forEach(v -> System.out.println("source verdict: " + v));
    assertEquals(4, verdicts.size());
    for (SourceScreen.Verdict v : verdicts) {
      assertEquals(v.source().equals("feed-3"), v.flagged(), v.toString());
    }
    Dataset<Row> judged = SourceFinding.flagRows(rows, verdicts);
    long feed = judged.where(col(Columns.SOURCE).equalTo("feed-3")).count();
    assertEquals(feed, judged.where(col(Columns.SOURCE).equalTo("feed-3").and(col(Columns.FLAGGED)))
        .where("exists(" + Columns.REASONS + ", r -> r like 'source:feed=feed-3,suspect_share=%')").count());
    rows.unpersist();
  }

  @Test
  void cleanFeedsAreLeftAlone() {
    Dataset<Row> rows = score(feeds(0), data);
    List<SourceScreen.Verdict> verdicts = SourceScreen.judge(rows, 0.01).verdicts();
    verdicts.forEach(v -> System.out.println("source verdict, clean feeds: " + v));
    assertTrue(verdicts.stream().noneMatch(SourceScreen.Verdict::flagged), verdicts.toString());
    assertEquals(rows.where(col(Columns.FLAGGED)).count(),
        SourceFinding.flagRows(rows, verdicts).where(col(Columns.FLAGGED)).count());
    rows.unpersist();
  }

  @Test
  void eachSourceIsCountedAsAGroupedCountCountsIt() {
    // feed-0's rows carry no source: they are one source of their own, listed first
    Dataset<Row> rows = score(feeds(0.3), data).withColumn(Columns.SOURCE,
        when(col(Columns.SOURCE).equalTo("feed-0"), lit(null).cast("string")).otherwise(col(Columns.SOURCE)))
        .persist(StorageLevel.MEMORY_AND_DISK());
    List<SourceScreen.Verdict> verdicts = SourceScreen.judge(rows, 0.01).verdicts();
    List<Row> expected = rows.groupBy(col(Columns.SOURCE)).agg(count(lit(1)),
            sum(when(lit(1.0).minus(col(Columns.POISON_SCORE))
                .leq(Math.min(1.0, SourceScreen.SUSPECT_FACTOR * 0.01)), 1L).otherwise(0L)),
            sum(when(col(Columns.FLAGGED), 1L).otherwise(0L)))
        .orderBy(col(Columns.SOURCE).asc_nulls_first()).collectAsList();
    assertEquals(expected.size(), verdicts.size());
    for (int i = 0; i < expected.size(); i++) {
      Row e = expected.get(i);
      SourceScreen.Verdict v = verdicts.get(i);
      assertEquals(e.isNullAt(0) ? null : e.getString(0), v.source());
      assertEquals(List.of(e.getLong(1), e.getLong(2), e.getLong(3)), List.of(v.rows(), v.suspect(), v.flaggedRows()),
          v.toString());
    }
    assertTrue(verdicts.get(0).source() == null && verdicts.get(0).rows() > 0);
    rows.unpersist();
  }

  @Test
  void aSourcePerRowIsNotScreenedAndSaysSo() {
    Dataset<Row> scored = score(feeds(0.3), data);
    // the row's id as its source: a source column naming something finer than a feed
    Dataset<Row> rows = scored.withColumn(Columns.SOURCE, col(Columns.ID).cast("string"))
        .persist(StorageLevel.MEMORY_AND_DISK());
    assertTrue(rows.count() > SourceScreen.MAX_SOURCES);
    SourceScreen.Screened screened = SourceScreen.judge(rows, 0.01);
    assertEquals(List.of(), screened.verdicts());
    assertTrue(screened.skipped().startsWith("more than " + SourceScreen.MAX_SOURCES + " sources"),
        screened.skipped());
    // at the cap exactly, every source gets its verdict
    Dataset<Row> atCap = scored.withColumn(Columns.SOURCE,
        pmod(col(Columns.ID), lit(SourceScreen.MAX_SOURCES)).cast("string"));
    SourceScreen.Screened all = SourceScreen.judge(atCap, 0.01);
    assertEquals(null, all.skipped());
    assertEquals(SourceScreen.MAX_SOURCES, all.verdicts().size());
    rows.unpersist();
    scored.unpersist();
  }
}
