package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Availability attack: copies of real rows with about a third of their numeric features (chosen per row by the
 * seed) pushed beyond everything the data holds: between half and two and a half ranges above the maximum.
 */
final class OutlierInjection implements Attack {
  @Override
  public String name() {
    return "outlier";
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    List<String> numeric = ctx.schema().numericFeatures();
    Quantiles q = Quantiles.of(ctx.rows(), numeric, 0.0, 1.0);
    Dataset<Row> added = ctx.draw(ctx.rows(), ctx.size(), ctx.rowsToAdd(), "outlier");
    for (int j = 0; j < numeric.size(); j++) {
      double range = Math.max(q.high()[j] - q.low()[j], Math.max(Math.abs(q.high()[j]), 1.0));
      Column far = functions.lit(q.high()[j]).plus(ctx.uniform("far-" + j).multiply(2).plus(0.5).multiply(range));
      added = added.withColumn(numeric.get(j), functions.when(ctx.uniform("pick-" + j).lt(1 / 3.0), far)
          .otherwise(Columns.col(numeric.get(j))));
    }
    return ctx.withAdded(ctx.withNewIds(added, "outlier"));
  }
}
