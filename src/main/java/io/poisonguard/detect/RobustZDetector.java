package io.poisonguard.detect;

import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Robust z-score within the row's class: per class and feature, the median and a robust scale
 * ({@link ClassStatistics}); a row's score is its largest |z| over features, its evidence the feature and z.
 * Catches values far outside what the row's own class shows, which a pooled view can miss when classes differ.
 */
public final class RobustZDetector extends DetectorEstimator<RobustZModel> {
  /** Reason code. */
  public static final String CODE = "robust_z";

  /** A detector with a random uid. */
  public RobustZDetector() {
    this(Identifiable.randomUID(CODE));
  }

  /** A detector with the given uid. */
  public RobustZDetector(String uid) {
    super(uid);
  }

  @Override
  public String reasonCode() {
    return CODE;
  }

  @Override
  protected RobustZModel fitPrepared(Dataset<Row> prepared) {
    String[] names = PreparedSchema.featureNames(prepared.schema(), getOrDefault(featuresCol()));
    ClassStatistics stats = ClassStatistics.compute(prepared, getOrDefault(featuresCol()), getOrDefault(labelCol()),
        names.length, PreparedSchema.classes(prepared.schema(), getOrDefault(labelCol())).length);
    return new RobustZModel(uid(), new RobustZModel.State(stats.medians(), stats.scales(), names));
  }

  /** Reader for saved detectors. */
  public static MLReader<RobustZDetector> read() {
    return ModelState.reader(java.util.Map.class, (uid, state) -> new RobustZDetector(uid));
  }

  /** Loads a saved detector. */
  public static RobustZDetector load(String path) {
    return read().load(path);
  }
}
