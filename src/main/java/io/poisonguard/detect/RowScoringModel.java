package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.io.Serializable;
import java.util.function.Supplier;
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

  /**
   * A raw score and the evidence that explains it, written only when read ({@link #evidence}): the detection stage
   * reads the evidence of flagged rows alone ({@link #scoreDeferringEvidence}).
   *
   * @param value the raw score
   * @param text writes the evidence; null when there is none (an unknown class, say)
   */
  public record Score(double value, Supplier<String> text) {
    /** The evidence, written now; null when there is none. */
    public String evidence() {
      return text == null ? null : text.get();
    }
  }

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
    Broadcast<RowScorer> model = broadcastScorer(input);
    StructType scored = new StructType()
        .add("score", DataTypes.DoubleType, false)
        .add("evidence", DataTypes.StringType, true);
    UserDefinedFunction udf = functions.udf((UDF2<Vector, Double, Row>) (features, label) -> {
      Score s = model.value().score(features, label == null ? Double.NaN : label);
      return RowFactory.create(s.value(), s.evidence());
      // Marked non-deterministic only so the optimiser does not inline the call once per extracted field
      // (it would score every row twice); the scores themselves are deterministic.
    }, scored).asNondeterministic();
    String tmp = Columns.PREFIX + "scored_" + uid();
    return input
        .withColumn(tmp, udf.apply(Columns.col(getFeaturesCol()), labelInput()))
        .withColumn(getScoreCol(), Columns.col(tmp).getField("score"))
        .withColumn(getEvidenceCol(), Columns.col(tmp).getField("evidence"))
        .drop(tmp);
  }

  /**
   * The score column alone; the evidence is the row scored once more, where the caller reads it. Every row's
   * evidence written as text and carried through the scoring pass was about a twentieth of that pass's CPU time
   * (a profile of the guard at 1M rows), for reasons read on about one row in a hundred.
   */
  @Override
  public ScoredRows scoreDeferringEvidence(Dataset<Row> rows) {
    transformSchema(rows.schema());
    Broadcast<RowScorer> model = broadcastScorer(rows);
    // Non-deterministic for the reason addScores gives: the score is read twice (its column and its p-value), and
    // the evidence must stay where the caller puts it, read for the rows that reach it.
    UserDefinedFunction score = functions.udf((UDF2<Vector, Double, Double>) (features, label) ->
        model.value().score(features, label == null ? Double.NaN : label).value(), DataTypes.DoubleType)
        .asNondeterministic();
    UserDefinedFunction evidence = functions.udf((UDF2<Vector, Double, String>) (features, label) ->
        model.value().score(features, label == null ? Double.NaN : label).evidence(), DataTypes.StringType)
        .asNondeterministic();
    Column features = Columns.col(getFeaturesCol());
    return new ScoredRows(rows.withColumn(getScoreCol(), score.apply(features, labelInput())),
        evidence.apply(features, labelInput()));
  }

  private Broadcast<RowScorer> broadcastScorer(Dataset<Row> rows) {
    return JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext()).broadcast(scorer());
  }

  /** The class index as the scorer takes it: NaN for detectors that ignore labels. */
  private Column labelInput() {
    return usesLabel() ? Columns.col(getLabelCol()).cast("double") : functions.lit(Double.NaN);
  }
}
