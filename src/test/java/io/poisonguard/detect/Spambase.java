package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Spambase for the label-aware detector tests (4601 rows, 57 numeric features, label {@code type}), with a
 * stable row id and seeded random label flips whose ground truth sits in a column the detectors never read.
 */
final class Spambase {
  static final Path FILE = Path.of("data/spambase.csv");
  static final int ROWS = 4601;
  /** Ground-truth column of the flip attack: true where the label was flipped. */
  static final String FLIPPED = "flipped";
  static final String BACKDOOR = "backdoor";
  private static final List<String> TRIGGER = List.of("george", "charSemicolon", "capitalAve");

  final Dataset<Row> clean;
  final FeatureSchema schema;

  private Spambase(Dataset<Row> clean, FeatureSchema schema) {
    this.clean = clean;
    this.schema = schema;
  }

  /** Reads the bundled file; the rows are cached (call {@link #release()}). */
  static Spambase load(SparkSession spark) {
    String header;
    try (BufferedReader in = Files.newBufferedReader(FILE)) {
      header = in.readLine();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String[] names = Arrays.stream(header.split(",")).map(s -> s.replace("\"", "")).toArray(String[]::new);
    StructType struct = new StructType();
    for (int i = 0; i < names.length - 1; i++) {
      struct = struct.add(names[i], DataTypes.DoubleType);
    }
    struct = struct.add(names[names.length - 1], DataTypes.StringType);
    // One small file = one partition, so monotonically_increasing_id is 0..n-1: a stable row id.
    Dataset<Row> clean = spark.read().option("header", "true").schema(struct).csv(FILE.toString())
        .withColumn(Columns.ID, functions.monotonically_increasing_id())
        .repartition(2, col(Columns.ID)).cache();
    return new Spambase(clean, new FeatureSchema("type", List.of(Arrays.copyOf(names, names.length - 1)), List.of()));
  }

  void release() {
    clean.unpersist();
  }

  /**
   * Spambase plus a backdoor: 230 nonspam rows (5%) copied with a trigger (three features at their 99.9th
   * percentile, each plausible alone) and labelled spam, marked in column {@value #BACKDOOR}.
   */
  Dataset<Row> withBackdoor() {
    double[][] top = clean.stat().approxQuantile(TRIGGER.toArray(new String[0]), new double[] {0.999}, 1e-4);
    Dataset<Row> poison = clean.where(col("type").equalTo("nonspam"))
        .where(col(Columns.ID).isin(pick(700, 5).toArray())).limit(230);
    for (int i = 0; i < TRIGGER.size(); i++) {
      poison = poison.withColumn(TRIGGER.get(i), lit(top[i][0]));
    }
    poison = poison.withColumn("type", lit("spam")).withColumn(Columns.ID, col(Columns.ID).plus(1_000_000L))
        .withColumn(BACKDOOR, lit(true));
    return clean.withColumn(BACKDOOR, lit(false)).unionByName(poison);
  }

  /** {@code rows} with the label of a seeded {@code share} of them flipped (spam ↔ nonspam), plus the truth. */
  static Dataset<Row> flip(Dataset<Row> rows, double share, long seed) {
    Set<Long> ids = pick((int) Math.round(share * ROWS), seed);
    Column hit = col(Columns.ID).isin(ids.toArray());
    return rows.withColumn(FLIPPED, hit)
        .withColumn("type", when(hit, when(col("type").equalTo("spam"), lit("nonspam")).otherwise(lit("spam")))
            .otherwise(col("type")));
  }

  /** Distinct row ids, seeded. */
  static Set<Long> pick(int n, long seed) {
    Random random = new Random(seed);
    Set<Long> ids = new TreeSet<>();
    while (ids.size() < n) {
      ids.add((long) random.nextInt(ROWS));
    }
    return ids;
  }

  /** ROC-AUC of a score column against a boolean truth column. */
  static double auc(Dataset<Row> scored, String scoreCol, String truthCol) {
    return new BinaryClassificationEvaluator().setLabelCol("_truth").setRawPredictionCol(scoreCol)
        .evaluate(scored.withColumn("_truth", col(truthCol).cast("double"))
            .withColumn(scoreCol, functions.nanvl(col(scoreCol), lit(-1e300))));
  }
}
