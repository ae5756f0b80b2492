package io.poisonguard.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.poisonguard.detect.FeaturePreparer;
import io.poisonguard.detect.FeaturePreparerModel;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * A bundled dataset prepared as trainers receive it: features prepared by the detector suite's {@link
 * FeaturePreparer} (fitted on the training rows), weight 1, and {@code _pg_id} the row's line number in the file,
 * split into training and held-out rows by id. Both sides are cached; call {@link #release()}.
 */
final class Prepared {
  final Dataset<Row> train;
  final Dataset<Row> test;
  final int numClasses;
  final int numFeatures;

  private Prepared(Dataset<Row> train, Dataset<Row> test, int numClasses, int numFeatures) {
    this.train = train;
    this.test = test;
    this.numClasses = numClasses;
    this.numFeatures = numFeatures;
  }

  /**
   * {@code file} with label {@code label}: rows whose id modulo {@code every} is {@code trainAt} train, those at
   * {@code testAt} are held out (the files list rows grouped by class, so a modulo split keeps the class mix).
   */
  static Prepared load(SparkSession spark, String file, String label, int every, int trainAt, int testAt) {
    // One small file is one partition, so monotonically_increasing_id is the line number: a stable id.
    Dataset<Row> raw = spark.read().option("header", "true").option("inferSchema", "true").csv(file)
        .withColumn(Columns.ID, functions.monotonically_increasing_id());
    List<String> numeric = Arrays.stream(raw.columns())
        .filter(c -> !c.equals(label) && !c.startsWith(Columns.PREFIX)).toList();
    Dataset<Row> trainRaw = raw.where(col(Columns.ID).mod(every).equalTo(trainAt));
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(new FeatureSchema(label, numeric, List.of()))
        .fit(trainRaw);
    Dataset<Row> train = ready(preparer, trainRaw);
    Dataset<Row> test = ready(preparer, raw.where(col(Columns.ID).mod(every).equalTo(testAt)));
    return new Prepared(train, test, preparer.labels().size(), numeric.size());
  }

  private static Dataset<Row> ready(FeaturePreparerModel preparer, Dataset<Row> rows) {
    return preparer.transform(rows)
        .select(col(Columns.ID).cast("string").as(Columns.ID), col(Columns.FEATURES), col(Columns.LABEL_INDEX))
        .withColumn(Columns.WEIGHT, lit(1.0)).cache();
  }

  void release() {
    train.unpersist();
    test.unpersist();
  }

  /** Share of {@code rows} the classifier predicts right, computed in Spark tasks (the classifier ships there). */
  static double accuracy(Classifier classifier, Dataset<Row> rows) {
    MapFunction<Row, Double> hit = r -> classifier.predict(((Vector) r.getAs(Columns.FEATURES)).toArray())
        == (int) r.getDouble(r.fieldIndex(Columns.LABEL_INDEX)) ? 1.0 : 0.0;
    return rows.map(hit, Encoders.DOUBLE()).agg(functions.avg("value")).first().getDouble(0);
  }

  /** The feature vectors of the first {@code n} held-out rows by id. */
  double[][] testFeatures(int n) {
    return test.orderBy(col(Columns.ID).cast("long")).limit(n).select(Columns.FEATURES).collectAsList().stream()
        .map(r -> ((Vector) r.get(0)).toArray()).toArray(double[][]::new);
  }

  /** The probabilities of each row of {@code x}. */
  static double[][] probabilities(Classifier classifier, double[][] x) {
    return Arrays.stream(x).map(classifier::probabilities).toArray(double[][]::new);
  }
}
