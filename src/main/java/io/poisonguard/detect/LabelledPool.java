package io.poisonguard.detect;

import static io.poisonguard.spark.Columns.col;

import io.poisonguard.config.ConfigException;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The fit rows of known class a neighbour detector searches ({@link KnnLabelDetector}, {@link KnnShapleyDetector}),
 * brought to the driver ({@link SeededDraw}): all of them, or a seeded uniform sample of {@code cap} when there are
 * more (the size limit that bounds driver memory and the broadcast at {@code cap × (d + 1)} doubles).
 *
 * @param design [row][d+1] compressed features ({@link LogisticFits#design})
 * @param labels class index of each row
 * @param keys [row][table] near-duplicate keys of each row
 * @param classes number of classes (from the class names, or the largest index seen plus one)
 * @param classNames class names for evidence, or null (indices are shown)
 */
record LabelledPool(double[][] design, int[] labels, long[][] keys, int classes, String[] classNames) {
  /**
   * Draws the pool.
   *
   * @throws ConfigException naming {@code code} when no fit row has a known class
   */
  static LabelledPool draw(Dataset<?> dataset, String featuresCol, String labelCol, int cap, NearDuplicateHash groups,
      long seed, String code) {
    Dataset<Row> labelled = dataset.toDF().where(LabelConsistencyDetector.knownClass(labelCol));
    String[] names = LogisticFits.classNames(dataset, labelCol);
    long rows = labelled.count();
    if (rows == 0) {
      throw new ConfigException(code + ": no fit row has a known class; nothing to fit on");
    }
    List<Row> picked = SeededDraw.draw(labelled, rows, cap, seed, code, col(featuresCol),
        col(labelCol).cast("double"));
    int m = picked.size();
    double[][] design = new double[m][];
    int[] labels = new int[m];
    long[][] keys = new long[m][];
    int classes = names != null && names.length > 0 ? names.length : 0;
    for (int i = 0; i < m; i++) {
      Vector v = picked.get(i).getAs(0);
      design[i] = LogisticFits.design(v);
      labels[i] = (int) picked.get(i).getDouble(1);
      keys[i] = groups.keys(v.toArray());
      classes = Math.max(classes, labels[i] + 1);
    }
    return new LabelledPool(design, labels, keys, classes, names);
  }
}
