package io.poisonguard.redteam;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** One poisoning attack: takes clean rows, returns them with poison mixed in and marked. */
public interface Attack {
  /** Column marking a row the attack poisoned (boolean). */
  String POISONED = "__poisoned";

  /** The name used on the command line. */
  String name();

  /**
   * The attacked data: the input's rows (modified or not) plus any added rows, every row marked in
   * {@link #POISONED}; the {@code id} column identifies rows, added rows get new ids.
   */
  Dataset<Row> apply(AttackContext context);
}
