package io.poisonguard.train;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;

/**
 * Rows gathered inside one Spark task for a {@link LocalTrainer}, and the way its model travels back to the driver:
 * as Java-serialized bytes, so a task returns one small row (the model) instead of the training rows.
 *
 * @param features one prepared feature vector per row
 * @param labels class index per row
 * @param weights weight per row
 */
record TaskRows(double[][] features, int[] labels, double[] weights) {

  /**
   * The rows' feature vector, class index and weight, read from columns {@code at}, {@code at + 1} and {@code at + 2},
   * in the list's order. Class indices outside {@code [0, numClasses)} are refused: a trainer would otherwise
   * silently build a model with the wrong number of outputs.
   */
  static TaskRows of(List<Row> rows, int at, int numClasses) {
    int n = rows.size();
    double[][] x = new double[n][];
    int[] y = new int[n];
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      Row r = rows.get(i);
      x[i] = ((Vector) r.get(at)).toArray();
      double label = r.getDouble(at + 1);
      if (!(label >= 0 && label < numClasses && label == Math.rint(label))) {
        throw new IllegalArgumentException("class index " + label + " is not one of 0.." + (numClasses - 1));
      }
      y[i] = (int) label;
      w[i] = r.getDouble(at + 2);
    }
    return new TaskRows(x, y, w);
  }

  /**
   * A total order on rows by content: feature values, then class, then weight, read from columns {@code at} to
   * {@code at + 2}. Rows equal in all three are interchangeable for any trainer, so sorting by it makes a fit
   * independent of the order Spark delivered the rows in.
   */
  static Comparator<Row> byContent(int at) {
    return Comparator.<Row, double[]>comparing(r -> ((Vector) r.get(at)).toArray(), Arrays::compare)
        .thenComparingDouble(r -> r.getDouble(at + 1))
        .thenComparingDouble(r -> r.getDouble(at + 2));
  }

  /** Fits {@code trainer} on these rows. */
  Classifier fit(LocalTrainer trainer, int numClasses, long seed) {
    return trainer.fit(features, labels, weights, numClasses, seed);
  }

  /** The classifier as Java-serialized bytes, the form a task hands back to the driver. */
  static byte[] serialize(Classifier classifier) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(classifier);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The classifier written by {@link #serialize}. */
  static Classifier deserialize(byte[] bytes) {
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
      return (Classifier) in.readObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("a task returned a classifier of an unknown class", e);
    }
  }
}
