package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.util.Optional;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Base of every fitted detector: the shared column Params and the schema check before any work. Detectors
 * that score each row on its own extend {@link RowScoringModel}; detectors that score a row against its
 * group (duplicates) add their columns with Spark aggregations, or, once they have counted the rows they score,
 * look each row up in those counts ({@link #rowScorer}).
 *
 * @param <M> the concrete model type
 */
public abstract class DetectorModel<M extends DetectorModel<M>> extends Model<M>
    implements DetectorParams, MLWritable {
  /** Column of {@link #countedScores}: a score. */
  public static final String COUNTED_SCORE = "score";
  /** Column of {@link #countedScores}: the number of rows with that score. */
  public static final String COUNTED_ROWS = "rows";
  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final Param<String> scoreCol;
  private final Param<String> evidenceCol;

  protected DetectorModel(String uid) {
    this.uid = uid;
    featuresCol = new Param<>(this, "featuresCol", "input vector column");
    labelCol = new Param<>(this, "labelCol", "input class-index column (double)");
    scoreCol = new Param<>(this, "scoreCol", "output raw score column");
    evidenceCol = new Param<>(this, "evidenceCol", "output evidence column");
    setDefault(featuresCol, Columns.FEATURES);
    setDefault(labelCol, Columns.LABEL_INDEX);
    setDefault(scoreCol, PoisonDetector.scoreColumn(reasonCode()));
    setDefault(evidenceCol, PoisonDetector.evidenceColumn(reasonCode()));
  }

  @Override
  public String uid() {
    return uid;
  }

  @Override
  public Param<String> featuresCol() {
    return featuresCol;
  }

  @Override
  public Param<String> labelCol() {
    return labelCol;
  }

  @Override
  public Param<String> scoreCol() {
    return scoreCol;
  }

  @Override
  public Param<String> evidenceCol() {
    return evidenceCol;
  }

  /** Sets the input vector column. */
  public M setFeaturesCol(String value) {
    set(featuresCol, value);
    return self();
  }

  /** Sets the input class-index column. */
  public M setLabelCol(String value) {
    set(labelCol, value);
    return self();
  }

  /** Sets the output score column. */
  public M setScoreCol(String value) {
    set(scoreCol, value);
    return self();
  }

  /** Sets the output evidence column. */
  public M setEvidenceCol(String value) {
    set(evidenceCol, value);
    return self();
  }

  /**
   * Whether a row's score depends only on that row and the fitted state. A detector whose score counts within
   * the rows being transformed (group sizes, say) answers false: scores of a sample of the batch are then not
   * scores of the batch, and a batch fit calibrates it on the batch's own.
   */
  public boolean scoresRowByRow() {
    return true;
  }

  /**
   * This detector as it scores the rows of {@code population}: for a detector that counts within the rows being
   * transformed ({@link #scoresRowByRow} false), a copy that has counted within {@code population} once and
   * scores whatever it transforms against those counts, so that scoring the same rows twice (to calibrate, then
   * for the verdicts) counts them once. Meant for transforms of {@code population} itself, and not saved with
   * the model. A detector that scores row by row is its own answer.
   *
   * @param population prepared rows (features and class index), as {@link #transform} takes them
   */
  public DetectorModel<?> againstRowsOf(Dataset<Row> population) {
    return this;
  }

  /**
   * The fitted state as a function of one row, when this detector as it stands scores each row alone: every
   * {@link RowScoringModel}, and a copy that has counted its population ({@link #againstRowsOf}) and holds what it
   * counted. The detection stage scores all such detectors in one call per row ({@link RowScoringModel#scoreTogether});
   * empty by default.
   */
  public Optional<RowScoringModel.RowScorer> rowScorer() {
    return Optional.empty();
  }

  /**
   * The scores this detector gives the rows of the population it has counted ({@link #againstRowsOf}), as scores
   * ({@value #COUNTED_SCORE}, double) with their numbers of rows ({@value #COUNTED_ROWS}, long), when its counts
   * alone determine them; empty when only scoring the rows tells, as for every detector by default. A caller that
   * calibrates on the population reads these few rows instead of scoring all of its rows.
   */
  public Optional<Dataset<Row>> countedScores() {
    return Optional.empty();
  }

  /**
   * This detector's score column over {@code rows}, with its evidence as an expression over the result's columns
   * rather than a column, for a caller that reads the evidence of a few rows (the detection stage reads flagged
   * rows'). By default the rows are {@link #transform}ed and the expression reads the evidence column; a
   * detector that scores row by row writes no evidence until the expression is evaluated.
   */
  public ScoredRows scoreDeferringEvidence(Dataset<Row> rows) {
    return new ScoredRows(transform(rows), Columns.col(getEvidenceCol()));
  }

  /**
   * Rows with a detector's score column, and its evidence for each of them.
   *
   * @param rows the rows with the score column
   * @param evidence the evidence, an expression over {@code rows}' columns (evaluated where it is read)
   */
  public record ScoredRows(Dataset<Row> rows, Column evidence) {}

  @SuppressWarnings("unchecked")
  private M self() {
    return (M) this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    return outputSchema(schema);
  }

  @Override
  public final Dataset<Row> transform(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    return addScores(dataset.toDF());
  }

  /**
   * Adds the score and evidence columns to already validated input. Must stay distributed: per-row work in
   * a map, group statistics through Spark aggregations, never a collect.
   */
  protected abstract Dataset<Row> addScores(Dataset<Row> input);
}
