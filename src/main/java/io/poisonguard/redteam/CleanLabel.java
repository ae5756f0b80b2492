package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Clean-label feature collision: rows of a base class ({@code --base-class}, default the largest) moved most of
 * the way ({@code --lambda}, default 0.9) towards one victim row of another class ({@code --target-class}), keeping
 * their own, correct-looking label. Trained on, they pull the victim's neighbourhood into the base class.
 */
final class CleanLabel implements Attack {
  @Override
  public String name() {
    return "clean-label";
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    String base = ctx.classOption("base-class", ctx.classes().get(0));
    String victimClass = ctx.classOption("target-class", ctx.classes().get(base.equals(ctx.classes().get(0)) ? 1
        : 0));
    double lambda = ctx.spec().number("lambda", 0.9);
    String label = ctx.schema().labelColumn();
    List<String> numeric = ctx.schema().numericFeatures();
    // one victim row: a single row comes back
    Row victim = ctx.pick(ctx.rows().filter(Columns.col(label).equalTo(victimClass)), 1, "victim").first();
    Dataset<Row> bases = ctx.rows().filter(Columns.col(label).equalTo(base));
    Dataset<Row> added = ctx.draw(bases, ctx.classCounts().get(ctx.classes().indexOf(base)), ctx.rowsToAdd(),
        "clean-label");
    for (String f : numeric) {
      Object v = victim.getAs(f);
      if (v != null) {
        double target = ((Number) v).doubleValue();
        Column x = functions.coalesce(Columns.col(f), functions.lit(target));
        added = added.withColumn(f, x.plus(functions.lit(target).minus(x).multiply(lambda)));
      }
    }
    return ctx.withAdded(ctx.withNewIds(added, "clean-label"));
  }
}
