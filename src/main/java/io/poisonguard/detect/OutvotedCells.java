package io.poisonguard.detect;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;

/**
 * The outvoted (table, group key, label) triples of a counted population ({@link DuplicateModel}), held as sorted
 * primitive arrays so that a row's score is a binary search per hash table, with no boxing: the detection stage looks
 * every row of the batch up here inside its one scoring call ({@link RowScoringModel#scoreTogether}). Small by
 * construction: only triples few enough to broadcast are held.
 */
final class OutvotedCells implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Per table, the keys of its outvoted triples in ascending order; a key repeats once per outvoted label. */
  private final long[][] keys;
  /** Per table, parallel to {@link #keys}: the triple's label, its group's other labels' count, its group's size. */
  private final double[][] labels;
  private final long[][] conflicting;
  private final long[][] groups;

  /**
   * From rows of (table int, key long, label double, conflicting long, group long), as {@link DuplicateModel}
   * counts them.
   *
   * @param tables the hash's number of tables
   */
  OutvotedCells(List<Row> triples, int tables) {
    keys = new long[tables][];
    labels = new double[tables][];
    conflicting = new long[tables][];
    groups = new long[tables][];
    for (int t = 0; t < tables; t++) {
      int table = t;
      Row[] inTable = triples.stream().filter(r -> r.getInt(0) == table)
          .sorted(Comparator.comparingLong(r -> r.getLong(1))).toArray(Row[]::new);
      keys[t] = new long[inTable.length];
      labels[t] = new double[inTable.length];
      conflicting[t] = new long[inTable.length];
      groups[t] = new long[inTable.length];
      for (int i = 0; i < inTable.length; i++) {
        keys[t][i] = inTable[i].getLong(1);
        labels[t][i] = inTable[i].getDouble(2);
        conflicting[t][i] = inTable[i].getLong(3);
        groups[t][i] = inTable[i].getLong(4);
      }
    }
  }

  /**
   * The score of a row with these group keys (one per table) and label: its largest conflicting count over the
   * tables where its (key, label) is outvoted, ties going to the larger group, as the join of the triples orders
   * its (score, conflicting, group) structs; 0, without evidence, when none is.
   *
   * @param label the class index, NaN when unknown (matching an outvoted NaN, as the join's equality does)
   */
  RowScoringModel.Score score(long[] rowKeys, double label) {
    long most = 0;
    long group = 0;
    for (int t = 0; t < rowKeys.length; t++) {
      long[] tableKeys = keys[t];
      int at = Arrays.binarySearch(tableKeys, rowKeys[t]);
      if (at < 0) {
        continue;
      }
      while (at > 0 && tableKeys[at - 1] == rowKeys[t]) {
        at--;
      }
      for (int i = at; i < tableKeys.length && tableKeys[i] == rowKeys[t]; i++) {
        boolean sameLabel = labels[t][i] == label || Double.isNaN(labels[t][i]) && Double.isNaN(label);
        if (sameLabel && (conflicting[t][i] > most || conflicting[t][i] == most && groups[t][i] > group)) {
          most = conflicting[t][i];
          group = groups[t][i];
        }
      }
    }
    if (most == 0) {
      return new RowScoringModel.Score(0, null);
    }
    long outvotedBy = most;
    long size = group;
    return new RowScoringModel.Score(outvotedBy,
        () -> String.format(Locale.ROOT, "group=%d,conflicting=%d", size, outvotedBy));
  }
}
