package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
     * @param row the prepared row
     * @param label the class index, NaN when unknown (always NaN for detectors that ignore labels)
     */
    Score score(PreparedRow row, double label);
  }

  /** The fitted state as a scorer. */
  protected abstract RowScorer scorer();

  @Override
  public final Optional<RowScorer> rowScorer() {
    return Optional.of(scorer());
  }

  @Override
  protected final Dataset<Row> addScores(Dataset<Row> input) {
    Broadcast<RowScorer> model = broadcastScorer(input);
    StructType scored = new StructType()
        .add("score", DataTypes.DoubleType, false)
        .add("evidence", DataTypes.StringType, true);
    UserDefinedFunction udf = functions.udf((UDF2<Vector, Double, Row>) (features, label) -> {
      Score s = model.value().score(new PreparedRow(features), label == null ? Double.NaN : label);
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
    ScoredTogether scored = scoreTogether(List.of(this), List.of(scorer()), rows);
    return new ScoredRows(scored.rows(), scored.evidence().get(0));
  }

  /**
   * Several detectors' score columns over the same rows, each as its own {@link #scoreDeferringEvidence} writes it,
   * from one call per row that reads the row's features once and runs every scorer: scored one detector at a time,
   * each score was a plan step of its own that copied the whole row, some forty columns in the guard's batch, and
   * those copies were a quarter of its scoring pass (a profile at 1M rows).
   *
   * @param models detectors reading the same features and class-index columns
   * @param scorers their {@link DetectorModel#rowScorer}s, in order
   * @param rows prepared rows
   * @return {@code rows} with each model's score column, in order, and each one's evidence as an expression over
   *     the result, evaluated where it is read
   */
  static ScoredTogether scoreTogether(List<? extends DetectorModel<?>> models, List<RowScorer> scorers,
      Dataset<Row> rows) {
    if (models.isEmpty()) {
      return new ScoredTogether(rows, List.of());
    }
    DetectorModel<?> first = models.get(0);
    for (DetectorModel<?> model : models) {
      if (!model.getFeaturesCol().equals(first.getFeaturesCol()) || !model.getLabelCol().equals(first.getLabelCol())) {
        throw new IllegalArgumentException(model.reasonCode() + " reads " + model.getFeaturesCol() + " and "
            + model.getLabelCol() + ", " + first.reasonCode() + " reads " + first.getFeaturesCol() + " and "
            + first.getLabelCol() + ": detectors scored together must read the same columns");
      }
      model.transformSchema(rows.schema());
    }
    Broadcast<RowScorer[]> broadcast = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext())
        .broadcast(scorers.toArray(RowScorer[]::new));
    boolean[] labelled = new boolean[models.size()];
    boolean anyLabelled = false;
    for (int i = 0; i < labelled.length; i++) {
      labelled[i] = models.get(i).usesLabel();
      anyLabelled |= labelled[i];
    }
    // Non-deterministic only so the optimiser keeps the call in one place: each score is read more than once (its
    // column and its p-value), and inlined into every reader the row would be scored again; the scores themselves
    // are deterministic.
    UserDefinedFunction scoreAll = functions.udf((UDF2<Vector, Double, double[]>) (features, label) -> {
      RowScorer[] all = broadcast.value();
      double given = label == null ? Double.NaN : label;
      PreparedRow row = new PreparedRow(features);
      double[] out = new double[all.length];
      for (int i = 0; i < all.length; i++) {
        out[i] = all[i].score(row, labelled[i] ? given : Double.NaN).value();
      }
      return out;
    }, DataTypes.createArrayType(DataTypes.DoubleType, false)).asNondeterministic();
    Column features = Columns.col(first.getFeaturesCol());
    Column label = anyLabelled ? Columns.col(first.getLabelCol()).cast("double") : functions.lit(Double.NaN);
    String all = Columns.PREFIX + "scores_" + first.uid();
    Map<String, Column> scoreColumns = new LinkedHashMap<>();
    List<Column> evidence = new ArrayList<>();
    for (int i = 0; i < models.size(); i++) {
      scoreColumns.put(models.get(i).getScoreCol(), Columns.col(all).getItem(i));
      evidence.add(evidence(broadcast, i, features, labelled[i] ? label : functions.lit(Double.NaN)));
    }
    return new ScoredTogether(rows.withColumn(all, scoreAll.apply(features, label)).withColumns(scoreColumns).drop(all),
        evidence);
  }

  /**
   * Rows scored by several detectors at once ({@link #scoreTogether}).
   *
   * @param rows the rows with each detector's score column
   * @param evidence per detector, in order, its evidence as an expression over {@code rows}' columns
   */
  record ScoredTogether(Dataset<Row> rows, List<Column> evidence) {}

  /** The evidence of scorer {@code i} of {@code scorers}, written for the rows that read it. */
  private static Column evidence(Broadcast<RowScorer[]> scorers, int i, Column features, Column label) {
    // Non-deterministic so the evidence stays where the caller puts it, read for the rows that reach it.
    UserDefinedFunction evidence = functions.udf((UDF2<Vector, Double, String>) (x, given) ->
        scorers.value()[i].score(new PreparedRow(x), given == null ? Double.NaN : given).evidence(),
        DataTypes.StringType)
        .asNondeterministic();
    return evidence.apply(features, label);
  }

  private Broadcast<RowScorer> broadcastScorer(Dataset<Row> rows) {
    return JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext()).broadcast(scorer());
  }

  /** The class index as the scorer takes it: NaN for detectors that ignore labels. */
  private Column labelInput() {
    return usesLabel() ? Columns.col(getLabelCol()).cast("double") : functions.lit(Double.NaN);
  }
}
