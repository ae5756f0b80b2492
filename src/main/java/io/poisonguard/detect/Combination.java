package io.poisonguard.detect;

import io.poisonguard.spark.Columns;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * How the detectors' calibrated tail probabilities become one verdict per row: {@code _pg_poison_score}
 * (1 − combined p), {@code _pg_flagged} (combined p ≤ the target false-positive rate) and {@code _pg_reasons}
 * (the detectors that carry the decision, strongest first, as {@code code:evidence}).
 */
interface Combination {
  /**
   * Adds the verdict columns.
   *
   * @param scored the batch with one tail-probability column per detector
   * @param pValues those columns, in detector order
   * @param reasons per detector, its {@code code:evidence} text, in the same order
   * @param targetFpr the flag's target false-positive rate on clean rows
   */
  Dataset<Row> combine(Dataset<Row> scored, List<Column> pValues, List<Column> reasons, double targetFpr);

  /**
   * The reasons column from {@code fired}, the array of (sort key, ..., reason) structs of the detectors that
   * carry the decision, strongest first; read only for flagged rows (in both combinations no detector fires on
   * any other), since building every row's candidates costs more than the rest of the verdict together.
   */
  static Column reasonsOfFlagged(Column fired) {
    return functions.when(Columns.col(Columns.FLAGGED),
            functions.transform(functions.array_sort(fired), c -> c.getField("reason")))
        .otherwise(functions.array().cast(DataTypes.createArrayType(DataTypes.StringType)));
  }
}
