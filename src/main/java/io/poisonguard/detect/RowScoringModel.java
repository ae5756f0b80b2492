package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.io.Serializable;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF2;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A fitted detector that scores each row on its own. The subclass supplies a {@link RowScorer} (its fitted
 * state, small); this class broadcasts it once per transform and scores each row where it lives. No row
 * ever reaches the driver.
 *
 * @param <M> the concrete model type
 */
public abstract class RowScoringModel<M extends RowScoringModel<M>> extends DetectorModel<M> {
  protected RowScoringModel(String uid) {
    super(uid);
  }

  /** A raw score and the evidence that explains it. */
  public record Score(double value, String evidence) implements Serializable {}

  /** The fitted state as a function of one row; serialisable so it can be broadcast to executors. */
  @FunctionalInterface
  public interface RowScorer extends Serializable {
    /**
     * Scores one prepared row.
     *
     * @param features the prepared feature vector
     * @param label the class index, NaN when unknown (always NaN for detectors that ignore labels)
     */
    Score score(Vector features, double label);
  }

  /** The fitted state as a scorer. */
  protected abstract RowScorer scorer();

  @Override
  protected final Dataset<Row> addScores(Dataset<Row> input) {
    Broadcast<RowScorer> model =
        JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext()).broadcast(scorer());
    StructType scored = new StructType()
        .add("score", DataTypes.DoubleType, false)
        .add("evidence", DataTypes.StringType, true);
    UserDefinedFunction udf = functions.udf((UDF2<Vector, Double, Row>) (features, label) -> {
      Score s = model.value().score(features, label == null ? Double.NaN : label);
      return RowFactory.create(s.value(), s.evidence());
      // Marked non-deterministic only so the optimiser does not inline the call once per extracted field
      // (it would score every row twice); the scores themselves are deterministic.
    }, scored).asNondeterministic();
    Column label = usesLabel() ? Columns.col(getLabelCol()).cast("double") : functions.lit(Double.NaN);
    String tmp = Columns.PREFIX + "scored_" + uid();
    return input
        .withColumn(tmp, udf.apply(Columns.col(getFeaturesCol()), label))
        .withColumn(getScoreCol(), Columns.col(tmp).getField("score"))
        .withColumn(getEvidenceCol(), Columns.col(tmp).getField("evidence"))
        .drop(tmp);
  }
}
