package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.format_string;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import io.poisonguard.spark.Columns;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * A fitted {@link DuplicateDetector}: the near-duplicate hash. Scores a row against the other rows of the
 * data being transformed (its groups), so unlike the per-row detectors it needs one shuffle per table.
 */
public final class DuplicateModel extends DetectorModel<DuplicateModel> {
  private final NearDuplicateHash hash;

  DuplicateModel(String uid, NearDuplicateHash hash) {
    super(uid);
    this.hash = hash;
  }

  @Override
  public String reasonCode() {
    return DuplicateDetector.CODE;
  }

  @Override
  public boolean unboundedScore() {
    return true;
  }

  /** False: group sizes are counted within the rows transformed (see {@link DuplicateDetector}). */
  @Override
  public boolean scoresRowByRow() {
    return false;
  }

  @Override
  public boolean usesLabel() {
    return true;
  }

  @Override
  protected Dataset<Row> addScores(Dataset<Row> input) {
    String keys = Columns.PREFIX + "groups_" + uid();
    // A null class index is "unknown", like NaN: one value, so unknown rows neither conflict nor agree.
    Column label = coalesce(col(getLabelCol()).cast("double"), lit(Double.NaN));
    Dataset<Row> df = input.withColumn(keys, hash.keyColumn(input.sparkSession(), col(getFeaturesCol())));
    Column[] perTable = new Column[hash.tables()];
    for (int t = 0; t < hash.tables(); t++) {
      Column group = col(keys).getField(NearDuplicateHash.tableKey(t));
      // Both windows are clustered by the group key: Spark shuffles once for them.
      Column size = count(lit(1)).over(Window.partitionBy(group));
      Column conflicting = size.minus(count(lit(1)).over(Window.partitionBy(group, label)));
      // Only a label outvoted within its group is suspect: the majority is the group's own evidence.
      Column minority = when(conflicting.multiply(2).gt(size), conflicting).otherwise(lit(0L));
      perTable[t] = struct(minority.as("score"), conflicting.as("conflicting"), size.as("group"));
    }
    String best = Columns.PREFIX + "dup_" + uid();
    df = df.withColumn(best, perTable.length == 1 ? perTable[0] : greatest(perTable));
    return df.withColumn(getScoreCol(), col(best).getField("score").cast("double"))
        .withColumn(getEvidenceCol(), when(col(best).getField("score").gt(0), format_string(
            "group=%d,conflicting=%d", col(best).getField("group"), col(best).getField("conflicting"))))
        .drop(keys, best);
  }

  @Override
  public DuplicateModel copy(ParamMap extra) {
    return copyValues(new DuplicateModel(uid(), hash), extra).setParent(parent());
  }

  @Override
  public MLWriter write() {
    return StateIO.writer(this, hash);
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<DuplicateModel> read() {
    return StateIO.reader(DuplicateModel.class, NearDuplicateHash.class, DuplicateModel::new);
  }

  /** Loads a saved model. */
  public static DuplicateModel load(String path) {
    return read().load(path);
  }
}
