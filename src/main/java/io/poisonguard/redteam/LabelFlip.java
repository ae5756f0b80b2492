package io.poisonguard.redteam;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/** Random label flips: {@code rate} of the rows, chosen uniformly, get another class. */
final class LabelFlip implements Attack {
  @Override
  public String name() {
    return "label-flip";
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    return Flips.flip(ctx, ctx.pick(ctx.rows(), ctx.rowsToModify(), "flip"), ctx.otherClass("flip-to"));
  }
}
