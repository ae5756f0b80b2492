package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/** Relabelling chosen rows in place: the mechanics every flip attack shares. */
final class Flips {
  private Flips() {}

  /** The context's rows with the {@code chosen} ones (by id) relabelled to {@code newLabel} and marked. */
  static Dataset<Row> flip(AttackContext ctx, Dataset<Row> chosen, Column newLabel) {
    String label = ctx.schema().labelColumn();
    Dataset<Row> marked = ctx.rows().join(chosen.select(functions.col("id"), functions.lit(true).as("__chosen")),
        scala.jdk.javaapi.CollectionConverters.asScala(java.util.List.of("id")).toSeq(), "left");
    Column isChosen = functions.coalesce(functions.col("__chosen"), functions.lit(false));
    return marked.withColumn(label, functions.when(isChosen, newLabel).otherwise(Columns.col(label)))
        .withColumn(Attack.POISONED, isChosen).drop("__chosen");
  }
}
