package io.poisonguard.redteam;

import io.poisonguard.detect.FeaturePreparer;
import io.poisonguard.detect.FeaturePreparerModel;
import io.poisonguard.spark.Columns;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Targeted flips from one class to another ({@code --source-class}, default the largest; {@code --target-class},
 * default the second largest). The flipped rows are those a surrogate logistic model is most confident belong to
 * the source class: relabelling a confidently placed point drags the boundary furthest.
 */
final class TargetedLabelFlip implements Attack {
  @Override
  public String name() {
    return "label-flip-targeted";
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    String source = ctx.classOption("source-class", ctx.classes().get(0));
    String target = ctx.classOption("target-class", ctx.classes().get(source.equals(ctx.classes().get(0)) ? 1 : 0));
    String label = ctx.schema().labelColumn();
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(ctx.schema()).fit(ctx.rows());
    Dataset<Row> prepared = preparer.transform(ctx.rows());
    LogisticRegressionModel surrogate = new LogisticRegression().setFeaturesCol(Columns.FEATURES)
        .setLabelCol(Columns.LABEL_INDEX).setMaxIter(50).setRegParam(1e-3).setFamily("multinomial").fit(prepared);
    int sourceIndex = preparer.labels().indexOf(source);
    Dataset<Row> ranked = surrogate.transform(prepared.filter(Columns.col(label)
            .equalTo(source)))
        .withColumn("__confidence", functions.vector_to_array(org.apache.spark.sql.functions.col("probability"),
            "float64").getItem(sourceIndex));
    long sourceRows = ctx.classCounts().get(ctx.classes().indexOf(source));
    Dataset<Row> chosen = ranked.orderBy(org.apache.spark.sql.functions.col("__confidence").desc(),
        org.apache.spark.sql.functions.col("id")).limit((int) Math.min(sourceRows, ctx.rowsToModify()));
    return Flips.flip(ctx, chosen.select("id"), org.apache.spark.sql.functions.lit(target));
  }
}
