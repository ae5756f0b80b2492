package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * A bad feed: adds a {@code source} column spreading rows over {@code --sources} feeds (default 5,
 * {@code feed-0} … by a seeded hash); in {@code --bad-source} (default {@code feed-0}) {@code rate} of the rows get
 * another label. Here {@code rate} is the flipped share of the bad feed, not of the whole batch.
 */
final class SourceAttack implements Attack {
  @Override
  public String name() {
    return "source";
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    long sources = (long) ctx.spec().number("sources", 5);
    String bad = ctx.spec().option("bad-source", "feed-0");
    Column feed = functions.concat(functions.lit("feed-"),
        functions.pmod(ctx.order("source"), functions.lit(sources)).cast("string"));
    Column flip = feed.equalTo(bad).and(ctx.uniform("source-flip").lt(ctx.spec().rate()));
    String label = ctx.schema().labelColumn();
    return ctx.rows().withColumn("source", feed)
        .withColumn(Attack.POISONED, flip)
        .withColumn(label, functions.when(flip, ctx.otherClass("source-to")).otherwise(Columns.col(label)));
  }
}
