package io.poisonguard.train;

import static org.apache.spark.ml.functions.vector_to_array;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.poisonguard.spark.ColumnQuantiles;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.QuantileSketch;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * What a saved model does to an input before classifying it: clip each prepared feature to the training data's
 * quantile bounds (an evasion cannot push a feature where no training row went), and feature squeezing, which rounds
 * each feature to one of {@code levels} steps between the bounds. The L1 distance between the class probabilities of
 * the clipped and the squeezed input is the squeezing disagreement: small perturbations tuned to the model's exact
 * decision boundary rarely survive rounding, so a large disagreement flags a likely evasion input. The flag threshold
 * is the disagreement quantile of clean training rows at {@code 1 − flagRate}.
 */
public final class InputGuard implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String FILE = "guard.json";
  /** Sketch accuracy of the flag threshold (rank error about 0.015%): its level is 1 − the flag rate, e.g. 99%. */
  private static final int FINE_SKETCH = 20_000;

  private final boolean clip;
  private final double[] lower;
  private final double[] upper;
  private final int levels;
  private final double flagThreshold;

  InputGuard(boolean clip, double[] lower, double[] upper, int levels, double flagThreshold) {
    this.clip = clip;
    this.lower = lower.clone();
    this.upper = upper.clone();
    this.levels = levels;
    this.flagThreshold = flagThreshold;
  }

  /**
   * Fits the bounds on {@code prepared} training rows ({@code _pg_features}) and the flag threshold on the
   * disagreements {@code classifier} shows on them. Two aggregations: the bounds' quantiles, then the threshold's.
   */
  static InputGuard fit(Dataset<Row> prepared, Classifier classifier, boolean clip, double lowerQuantile,
      double upperQuantile, int levels, double flagRate) {
    int d = classifier.numFeatures();
    Column array = vector_to_array(Columns.col(Columns.FEATURES), "float64");
    Column[] entries = new Column[d];
    String[] names = new String[d];
    for (int i = 0; i < d; i++) {
      names[i] = "f" + i;
      entries[i] = array.getItem(i).as(names[i]);
    }
    // sketches merged in partition order: the same rows give the same bounds and threshold on every rerun
    double[][] q = ColumnQuantiles.of(prepared.select(entries), java.util.Arrays.stream(names).map(Columns::col)
        .toList(), new double[] {lowerQuantile, upperQuantile}, QuantileSketch.K);
    double[] lo = new double[d];
    double[] hi = new double[d];
    for (int i = 0; i < d; i++) {
      lo[i] = q[i][0];
      hi[i] = q[i][1];
    }
    InputGuard unflagged = new InputGuard(clip, lo, hi, levels, Double.POSITIVE_INFINITY);
    Dataset<Double> disagreement = prepared.select(Columns.col(Columns.FEATURES)).map(
        (org.apache.spark.api.java.function.MapFunction<Row, Double>) r ->
            unflagged.disagreement(classifier, ((Vector) r.get(0)).toArray()), Encoders.DOUBLE());
    double threshold = ColumnQuantiles.of(disagreement, List.of(functions.col("value")), new double[] {1 - flagRate},
        FINE_SKETCH)[0][0];
    return new InputGuard(clip, lo, hi, levels, threshold);
  }

  /** The input as the classifier sees it: clipped to the bounds when clipping is on. */
  public double[] clipped(double[] x) {
    if (!clip) {
      return x;
    }
    double[] c = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      c[i] = Math.max(lower[i], Math.min(upper[i], x[i]));
    }
    return c;
  }

  /** The clipped input rounded to the nearest of {@code levels} steps between each feature's bounds. */
  public double[] squeezed(double[] x) {
    double[] c = clipped(x);
    for (int i = 0; i < c.length; i++) {
      double span = upper[i] - lower[i];
      if (span > 0) {
        double step = span / (levels - 1);
        double v = Math.max(lower[i], Math.min(upper[i], c[i]));
        c[i] = lower[i] + Math.rint((v - lower[i]) / step) * step;
      }
    }
    return c;
  }

  /** L1 distance between the class probabilities of the clipped and of the squeezed input. */
  public double disagreement(Classifier classifier, double[] x) {
    double[] p = classifier.probabilities(clipped(x));
    double[] s = classifier.probabilities(squeezed(x));
    double sum = 0;
    for (int k = 0; k < p.length; k++) {
      sum += Math.abs(p[k] - s[k]);
    }
    return sum;
  }

  /** Whether a disagreement marks a likely evasion input. */
  public boolean flags(double disagreement) {
    return disagreement > flagThreshold;
  }

  /** The disagreement above which inputs are flagged. */
  public double flagThreshold() {
    return flagThreshold;
  }

  void save(Path dir) throws IOException {
    ObjectNode node = JSON.createObjectNode().put("clip", clip).put("levels", levels)
        .put("flag_threshold", flagThreshold);
    node.putPOJO("lower", lower);
    node.putPOJO("upper", upper);
    Files.writeString(dir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node));
  }

  static InputGuard load(Path dir) throws IOException {
    JsonNode node = JSON.readTree(dir.resolve(FILE).toFile());
    return new InputGuard(node.path("clip").asBoolean(), JSON.treeToValue(node.path("lower"), double[].class),
        JSON.treeToValue(node.path("upper"), double[].class), node.path("levels").asInt(),
        node.path("flag_threshold").asDouble());
  }
}
