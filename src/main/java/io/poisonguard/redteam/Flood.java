package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Duplicate flood: many near-copies of a few rows ({@code --bases}, default 5) with uniform noise of at most 1% of
 * each feature's spread, labelled with another class ({@code --target-class} to choose it).
 */
final class Flood implements Attack {
  @Override
  public String name() {
    return "flood";
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    int bases = (int) ctx.spec().number("bases", 5);
    List<String> numeric = ctx.schema().numericFeatures();
    Quantiles q = Quantiles.of(ctx.rows(), numeric, 0.05, 0.95);
    Dataset<Row> seeds = ctx.pick(ctx.rows(), bases, "flood-base");
    Dataset<Row> added = ctx.draw(seeds, bases, ctx.rowsToAdd(), "flood");
    for (int j = 0; j < numeric.size(); j++) {
      double spread = Math.max(q.high()[j] - q.low()[j], 1e-3);
      Column noise = ctx.uniform("noise-" + j).minus(0.5).multiply(0.02 * spread);
      added = added.withColumn(numeric.get(j), Columns.col(numeric.get(j)).plus(noise));
    }
    String target = ctx.spec().option("target-class", null);
    Column label = target == null ? ctx.otherClass("flood-label") : functions.lit(ctx.classOption("target-class",
        target));
    return ctx.withAdded(ctx.withNewIds(added.withColumn(ctx.schema().labelColumn(), label), "flood"));
  }
}
