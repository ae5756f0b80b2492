package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import io.poisonguard.config.ConfigException;
import io.poisonguard.ingest.FeatureSchema;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * What every attack works with, and the mechanics they share: counting, choosing rows deterministically,
 * flipping labels and minting ids for added rows. Rows are chosen by a seeded hash of their id, never by
 * partition order, so the same seed picks the same rows on any cluster.
 *
 * @param rows the clean rows: an {@code id} column, the label, the features
 * @param schema label and features
 * @param classes the label's classes, sorted, with their row counts largest first in {@code classCounts}
 * @param classCounts rows per class, in the order of {@code classes}
 * @param spec the attack's settings
 */
public record AttackContext(Dataset<Row> rows, FeatureSchema schema, List<String> classes, List<Long> classCounts,
    AttackSpec spec) {

  /** Builds the context; the class counts are one small grouped aggregate. */
  public static AttackContext of(Dataset<Row> rows, FeatureSchema schema, AttackSpec spec) {
    List<String> classes = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    // one row per class
    for (Row r : rows.groupBy(Columns.col(schema.labelColumn())).count()
        .orderBy(functions.col("count").desc(), Columns.col(schema.labelColumn())).collectAsList()) {
      classes.add(r.getString(0));
      counts.add(r.getLong(1));
    }
    if (classes.size() < 2) {
      throw new ConfigException("redteam: the label '" + schema.labelColumn() + "' has fewer than two classes");
    }
    return new AttackContext(rows, schema, List.copyOf(classes), List.copyOf(counts), spec);
  }

  /** Rows in the input. */
  public long size() {
    return classCounts.stream().mapToLong(Long::longValue).sum();
  }

  /** Rows to add so that they make up {@code rate} of the output. */
  public long rowsToAdd() {
    return Math.max(1, Math.round(spec.rate() * size() / (1 - spec.rate())));
  }

  /** Rows to modify in place so that they make up {@code rate} of the input. */
  public long rowsToModify() {
    return Math.max(1, Math.round(spec.rate() * size()));
  }

  /** A class option (e.g. {@code target-class}) or the fallback; an error naming the option if unknown. */
  public String classOption(String name, String fallback) {
    String value = spec.option(name, fallback);
    if (!classes.contains(value)) {
      throw new ConfigException("redteam: --" + name + " '" + value + "' is not a class of '" + schema.labelColumn()
          + "'; classes: " + classes);
    }
    return value;
  }

  /** A seeded, partition-independent random order key for rows, salted per use. */
  public Column order(String salt) {
    return functions.xxhash64(functions.col("id"), functions.lit(spec.seed()), functions.lit(salt));
  }

  /** A seeded uniform number in [0, 1) per row, from its id: the same on any partitioning. */
  public Column uniform(String salt) {
    return functions.pmod(order(salt), functions.lit(1_000_000_007L)).divide(1_000_000_007.0);
  }

  /**
   * {@code k} rows drawn from {@code from} for added poison: when {@code from} has fewer rows than {@code k} it is
   * repeated (each copy with a salted id) before the seeded pick.
   */
  public Dataset<Row> draw(Dataset<Row> from, long available, long k, String salt) {
    long copies = Math.max(1, (k + available - 1) / Math.max(1, available));
    Dataset<Row> repeated = copies == 1 ? from : from
        .withColumn("__copy", functions.explode(functions.sequence(functions.lit(0L), functions.lit(copies - 1))))
        .withColumn("id", functions.concat_ws("#", functions.col("id"), functions.col("__copy").cast("string")))
        .drop("__copy");
    return pick(repeated, k, salt);
  }

  /** The first {@code k} rows of {@code from} in the seeded order (a distributed top-k, not a collect). */
  public Dataset<Row> pick(Dataset<Row> from, long k, String salt) {
    return from.orderBy(order(salt), functions.col("id")).limit((int) Math.min(Integer.MAX_VALUE, k));
  }

  /** Another class than the row's, chosen by the seeded hash (the only other one for two classes). */
  public Column otherClass(String salt) {
    Column label = Columns.col(schema.labelColumn());
    Column offset = functions.pmod(order(salt), functions.lit((long) classes.size() - 1)).plus(1);
    Column index = functions.array_position(functions.lit(classes.toArray(String[]::new)), label).minus(1);
    Column other = functions.pmod(index.plus(offset), functions.lit((long) classes.size()));
    return functions.element_at(functions.lit(classes.toArray(String[]::new)), other.plus(1).cast("int"));
  }

  /** Gives added rows fresh ids {@code <attack>-<hash>} derived from their source id and a salt. */
  public Dataset<Row> withNewIds(Dataset<Row> added, String salt) {
    return added.withColumn("id", functions.concat(functions.lit(spec.attack() + "-"),
        functions.sha2(functions.concat_ws("/", functions.col("id"), functions.lit(salt),
            functions.lit(spec.seed())), 256).substr(1, 16)));
  }

  /** The input rows unmarked, followed by {@code added} marked poisoned. */
  public Dataset<Row> withAdded(Dataset<Row> added) {
    return rows.withColumn(Attack.POISONED, functions.lit(false))
        .unionByName(added.withColumn(Attack.POISONED, functions.lit(true)));
  }
}
