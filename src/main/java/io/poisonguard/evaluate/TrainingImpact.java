package io.poisonguard.evaluate;

import io.poisonguard.detect.FeaturePreparer;
import io.poisonguard.detect.FeaturePreparerModel;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * What poisoning and the guard do to a model: test accuracy of the same learner (MLlib multinomial logistic
 * regression on the shared prepared features) trained on the truly clean rows, on all the poisoned data, and on
 * the rows the guard kept.
 */
public final class TrainingImpact {
  private TrainingImpact() {}

  /**
   * Accuracies on {@code test} of models trained on subsets of {@code data}, which carries the boolean columns
   * {@code poisonedCol} (ground truth) and {@code flaggedCol} (the guard's verdict).
   *
   * @return {@code clean_only}, {@code all_poisoned}, {@code guard_kept} to accuracy in [0, 1]
   */
  public static Map<String, Double> accuracies(Dataset<Row> data, Dataset<Row> test, FeatureSchema schema,
      String poisonedCol, String flaggedCol, long seed) {
    Map<String, Double> out = new LinkedHashMap<>();
    out.put("clean_only", accuracy(data.filter(functions.not(Columns.col(poisonedCol))), test, schema, seed));
    out.put("all_poisoned", accuracy(data, test, schema, seed));
    out.put("guard_kept", accuracy(data.filter(functions.not(Columns.col(flaggedCol))), test, schema, seed));
    return out;
  }

  /** Test accuracy of the learner trained on {@code train}; preparation is fitted on {@code train} alone. */
  static double accuracy(Dataset<Row> train, Dataset<Row> test, FeatureSchema schema, long seed) {
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(schema).fit(train);
    LogisticRegressionModel model = new LogisticRegression().setFeaturesCol(Columns.FEATURES)
        .setLabelCol(Columns.LABEL_INDEX).setMaxIter(100).setRegParam(1e-3).setFamily("multinomial")
        .fit(preparer.transform(train).filter(functions.not(functions.isnan(Columns.col(Columns.LABEL_INDEX)))));
    Dataset<Row> predicted = model.transform(preparer.transform(test));
    // a test label the training data never had counts as an error: NaN never equals a prediction
    Column right = functions.col("prediction").equalTo(Columns.col(Columns.LABEL_INDEX));
    Row r = predicted.agg(functions.avg(functions.when(right, 1.0).otherwise(0.0))).head();
    return r.getDouble(0);
  }
}
