package io.poisonguard.detect;

import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLReader;

/** A fitted {@link BatchKnnLabelDetector}: a {@link KnnLabelModel} whose pool holds batch rows, under its own code. */
public final class BatchKnnLabelModel extends KnnLabelModel {
  BatchKnnLabelModel(String uid, State state) {
    super(uid, state);
  }

  @Override
  public String reasonCode() {
    return BatchKnnLabelDetector.CODE;
  }

  @Override
  public KnnLabelModel copy(ParamMap extra) {
    return copyValues(new BatchKnnLabelModel(uid(), state()), extra).setParent(parent());
  }

  /** Reader for saved models (also found by {@code Pipeline} load through reflection). */
  public static MLReader<KnnLabelModel> read() {
    return StateIO.reader(BatchKnnLabelModel.class, State.class, BatchKnnLabelModel::new);
  }

  /** Loads a saved model. */
  public static KnnLabelModel load(String path) {
    return read().load(path);
  }
}
