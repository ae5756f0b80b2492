package io.poisonguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Path lengths of a hand-built isolation tree against values worked out by hand: the depth of the leaf a row
 * reaches plus the expected depth still to go below a leaf of its size, and the score {@code 2^(-path / c(ψ))}.
 */
@ExtendWith(SharedSpark.class)
class IsolationForestModelTest {
  private static final double EULER_GAMMA = 0.5772156649015329;

  @Test
  void scoresFollowThePathEachRowTakes(SparkSession spark) {
    // Nodes out of the order the detector's builder writes them (the root's right child before its left), so
    // scoring must follow the child links:
    //   0: x0 < 0.5 ? node 2 : node 1
    //   1: x1 < 2.0 ? node 3 : node 4
    //   2, 3, 4: leaves of 1, 3 and 4 training rows
    IsolationForestModel.Tree tree = new IsolationForestModel.Tree(new int[] {0, 1, -1, -1, -1},
        new double[] {0.5, 2.0, 0, 0, 0}, new int[] {2, 3, -1, -1, -1}, new int[] {1, 4, -1, -1, -1},
        new int[] {8, 7, 1, 3, 4});
    IsolationForestModel model = new IsolationForestModel("iforest_test",
        new IsolationForestModel.State(new String[] {"x0", "x1"}, 8, new IsolationForestModel.Tree[] {tree}));

    StructType schema = new StructType().add(Columns.ID, DataTypes.StringType)
        .add(Columns.FEATURES, SQLDataTypes.VectorType()).add(Columns.LABEL_INDEX, DataTypes.DoubleType);
    List<Row> rows = List.of(
        RowFactory.create("left leaf", Vectors.dense(0.2, 0.0), 0.0),
        RowFactory.create("middle leaf", Vectors.dense(0.7, 1.0), 0.0),
        RowFactory.create("ties go right", Vectors.dense(0.5, 2.0), 0.0),
        RowFactory.create("NaN goes right", Vectors.dense(Double.NaN, 5.0), 0.0));
    Dataset<Row> scored = model.transform(spark.createDataFrame(rows, schema));
    Map<String, Double> scores = new HashMap<>();
    for (Row r : scored.select(Columns.ID, model.getScoreCol()).collectAsList()) {
      scores.put(r.getString(0), r.getDouble(1));
    }

    // c(n) = 2 (ln(n - 1) + γ) - 2 (n - 1) / n, the average unsuccessful-search depth; c(1) = 0
    double c3 = 2 * (Math.log(2) + EULER_GAMMA) - 2.0 * 2 / 3;
    double c4 = 2 * (Math.log(3) + EULER_GAMMA) - 2.0 * 3 / 4;
    double c8 = 2 * (Math.log(7) + EULER_GAMMA) - 2.0 * 7 / 8;
    assertEquals(Math.pow(2, -1.0 / c8), scores.get("left leaf"), 1e-12);
    assertEquals(Math.pow(2, -(2 + c3) / c8), scores.get("middle leaf"), 1e-12);
    assertEquals(Math.pow(2, -(2 + c4) / c8), scores.get("ties go right"), 1e-12);
    assertEquals(Math.pow(2, -(2 + c4) / c8), scores.get("NaN goes right"), 1e-12);
  }

  @Test
  void aForestScoresTheMeanPathOverItsTrees(SparkSession spark) {
    // Five trees, so that the scorer walks four of them together and the fifth alone: the tree above three times,
    // and twice a lone root leaf of 8 rows (path c(8)).
    IsolationForestModel.Tree split = new IsolationForestModel.Tree(new int[] {0, 1, -1, -1, -1},
        new double[] {0.5, 2.0, 0, 0, 0}, new int[] {2, 3, -1, -1, -1}, new int[] {1, 4, -1, -1, -1},
        new int[] {8, 7, 1, 3, 4});
    IsolationForestModel.Tree leaf = new IsolationForestModel.Tree(new int[] {-1}, new double[] {0}, new int[] {-1},
        new int[] {-1}, new int[] {8});
    IsolationForestModel model = new IsolationForestModel("iforest_forest_test", new IsolationForestModel.State(
        new String[] {"x0", "x1"}, 8, new IsolationForestModel.Tree[] {split, leaf, split, split, leaf}));

    StructType schema = new StructType().add(Columns.ID, DataTypes.StringType)
        .add(Columns.FEATURES, SQLDataTypes.VectorType()).add(Columns.LABEL_INDEX, DataTypes.DoubleType);
    List<Row> rows = List.of(
        RowFactory.create("left leaf", Vectors.dense(0.2, 0.0), 0.0),
        RowFactory.create("right leaf", Vectors.dense(0.9, 3.0), 0.0));
    Map<String, Double> scores = new HashMap<>();
    for (Row r : model.transform(spark.createDataFrame(rows, schema)).select(Columns.ID, model.getScoreCol())
        .collectAsList()) {
      scores.put(r.getString(0), r.getDouble(1));
    }

    double c4 = 2 * (Math.log(3) + EULER_GAMMA) - 2.0 * 3 / 4;
    double c8 = 2 * (Math.log(7) + EULER_GAMMA) - 2.0 * 7 / 8;
    assertEquals(Math.pow(2, -((1 + c8 + 1 + 1 + c8) / 5) / c8), scores.get("left leaf"), 1e-12);
    assertEquals(Math.pow(2, -((3 * (2 + c4) + 2 * c8) / 5) / c8), scores.get("right leaf"), 1e-12);
  }
}
