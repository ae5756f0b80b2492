package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;

import io.poisonguard.spark.ColumnQuantiles;
import io.poisonguard.spark.QuantileSketch;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Random-projection hashing that puts near-copies of a row in the same group: the shared notion of "the
 * same row, give or take noise" for the detectors that must not let copies vouch for each other.
 *
 * <p>Each prepared feature is read in units of its 5–95% spread on the fit data (at least one robust-scale
 * unit, so a feature that is constant on most rows does not turn tiny noise into distance). Each of
 * {@code tables} keys is a hash of the grid cells, of width {@code width} spread units, of the row's
 * projections on {@code projections} seeded random unit directions. Rows that differ by about 1% of every
 * feature's spread share a key in most tables; unrelated rows rarely share one. Exact duplicates always do.
 *
 * @param directions [table · projections + j][d] unit directions, each entry divided by its feature's spread
 * @param offsets grid offset per direction, in [0, width)
 * @param tables number of keys per row
 * @param projections directions per key
 * @param width grid width in spread units
 */
public record NearDuplicateHash(double[][] directions, double[] offsets, int tables, int projections, double width)
    implements Serializable {
  /** Grid width that keeps copies within ~1% of each feature's spread together. */
  static final double DEFAULT_WIDTH = 0.03;
  /** Directions per key. */
  static final int DEFAULT_PROJECTIONS = 4;

  /**
   * Fits the hash: one {@code approxQuantile} pass for the spreads; the directions come from {@code seed}.
   *
   * @param dataset prepared rows
   * @param featuresCol their vector column
   */
  static NearDuplicateHash fit(Dataset<?> dataset, String featuresCol, int tables, int projections, double width,
      long seed) {
    int d = FeatureNames.of(dataset, featuresCol).length;
    Column array = org.apache.spark.ml.functions.vector_to_array(col(featuresCol), "float64");
    List<Column> entries = new ArrayList<>();
    for (int i = 0; i < d; i++) {
      entries.add(array.getItem(i));
    }
    double[][] bounds = ColumnQuantiles.of(dataset, entries, new double[] {0.05, 0.95}, QuantileSketch.K);
    Random random = new Random(seed);
    double[][] directions = new double[tables * projections][d];
    double[] offsets = new double[directions.length];
    for (int j = 0; j < directions.length; j++) {
      double norm = 0;
      for (int i = 0; i < d; i++) {
        directions[j][i] = random.nextGaussian();
        norm += directions[j][i] * directions[j][i];
      }
      for (int i = 0; i < d; i++) {
        double spread = bounds[i].length == 2 ? Math.max(bounds[i][1] - bounds[i][0], 1.0) : 1.0;
        directions[j][i] /= Math.sqrt(norm) * spread;
      }
      offsets[j] = random.nextDouble() * width;
    }
    return new NearDuplicateHash(directions, offsets, tables, projections, width);
  }

  /**
   * The fold of a row's first-table group, under a seed: near-copies share a fold, so held-out models
   * never see a copy of the row they judge.
   */
  int fold(Vector features, long seed, int folds) {
    return (int) Math.floorMod(LogisticFits.mix(keys(features.toArray())[0] ^ seed), (long) folds);
  }

  /** The row's keys as a struct of longs {@code t0, t1, ...}, one per table, with this hash broadcast once. */
  Column keyColumn(SparkSession spark, Column features) {
    Broadcast<NearDuplicateHash> shared = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(this);
    StructType type = new StructType();
    for (int t = 0; t < tables; t++) {
      type = type.add(tableKey(t), DataTypes.LongType, false);
    }
    return functions.udf((UDF1<Vector, Row>) v ->
        RowFactory.create(Arrays.stream(shared.value().keys(v.toArray())).boxed().toArray()), type).apply(features);
  }

  /** The field of {@link #keyColumn} that holds table {@code t}'s key. */
  static String tableKey(int t) {
    return "t" + t;
  }

  /**
   * The number of rows in the row's largest group over the tables (itself included), as window counts over
   * a {@link #keyColumn}: one shuffle per table.
   */
  Column largestGroup(Column keys) {
    Column[] sizes = new Column[tables];
    for (int t = 0; t < tables; t++) {
      sizes[t] = functions.count(functions.lit(1)).over(Window.partitionBy(keys.getField(tableKey(t))));
    }
    return sizes.length == 1 ? sizes[0] : functions.greatest(sizes);
  }

  /** The group key in each table of the row with these prepared feature values. */
  long[] keys(double[] features) {
    long[] keys = new long[tables];
    for (int t = 0; t < tables; t++) {
      long key = 17;
      for (int j = 0; j < projections; j++) {
        double[] u = directions[t * projections + j];
        double p = offsets[t * projections + j];
        for (int i = 0; i < u.length; i++) {
          p += u[i] * features[i];
        }
        key = key * 1_000_003L + (long) Math.floor(p / width);
      }
      keys[t] = key;
    }
    return keys;
  }
}
