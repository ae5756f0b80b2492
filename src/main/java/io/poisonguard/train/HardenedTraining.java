package io.poisonguard.train;

import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.xxhash64;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.poisonguard.config.TrainConfig;
import io.poisonguard.detect.FeaturePreparer;
import io.poisonguard.detect.FeaturePreparerModel;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.spark.Columns;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * Trains the model a pipeline's {@code train:} section asks for on accepted rows: holds out a test share by a seeded
 * hash of {@code _pg_id} (the same rows on any partitioning), fits the feature preparation on the training share,
 * augments it with adversarial copies when a non-linear trainer is hardened that way (crafted on a linear surrogate
 * and transferred), fits the classifier and its input guard. Nothing but the model reaches the driver.
 */
public final class HardenedTraining {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Writes the settings with the pipeline file's own key names. */
  private static final ObjectMapper SETTINGS = new ObjectMapper()
      .setPropertyNamingStrategy(com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);
  private static final int SPLIT_BUCKETS = 1_000_000;

  private HardenedTraining() {}

  /**
   * The trained model and the prepared rows it was trained and is to be evaluated on (persisted: call
   * {@link #release()} when done).
   */
  public record Trained(HardenedModel model, Dataset<Row> train, Dataset<Row> test, long trainRows, long testRows) {
    /** Frees the persisted rows. */
    public void release() {
      train.unpersist();
      test.unpersist();
    }
  }

  /** Trains on {@code rows} (raw columns of {@code schema} and {@code _pg_id}). */
  public static Trained fit(Dataset<Row> rows, FeatureSchema schema, TrainConfig config, long seed) {
    Column bucket = pmod(xxhash64(Columns.col(Columns.ID), lit(seed)), lit(SPLIT_BUCKETS));
    Column isTest = bucket.lt(lit((long) Math.round(config.testFraction() * SPLIT_BUCKETS)));
    Dataset<Row> trainRaw = rows.filter(functions.not(isTest));
    FeaturePreparerModel preparer = FeaturePreparer.forSchema(schema).fit(trainRaw);
    Column[] prepared = {Columns.col(Columns.ID), Columns.col(Columns.FEATURES), Columns.col(Columns.LABEL_INDEX),
        lit(1.0).as(Columns.WEIGHT)};
    Dataset<Row> train = preparer.transform(trainRaw).select(prepared).persist(StorageLevel.MEMORY_AND_DISK());
    // test labels the training share never saw have no class index: they cannot be scored right or wrong
    Dataset<Row> test = preparer.transform(rows.filter(isTest)).select(prepared)
        .filter(functions.not(functions.isnan(Columns.col(Columns.LABEL_INDEX))))
        .persist(StorageLevel.MEMORY_AND_DISK());
    long trainRows = train.count();
    long testRows = test.count();
    if (trainRows == 0 || testRows == 0) {
      train.unpersist();
      test.unpersist();
      throw new IllegalArgumentException("training needs rows on both sides of the " + config.testFraction()
          + " test split; got " + trainRows + " training and " + testRows + " test rows");
    }
    int classes = preparer.labels().size();
    int d = preparer.featureNames().size();
    Dataset<Row> fitOn = train;
    LinearSoftmax surrogate = null;
    if (config.adversarial() != null && !config.trainer().equals(LinearSoftmax.TRAINER)) {
      // crafted on the half the evaluation's surrogate does not learn from, so that the transferred attack the model
      // is measured under comes from a model it never saw examples of
      surrogate = Trainers.surrogate(config).fit(train.filter(functions.not(surrogateHalf(seed))), classes, d, seed);
      fitOn = transferredCopies(train, surrogate, config.adversarial());
    }
    Classifier classifier = Trainers.forConfig(config).fit(fitOn, classes, d, seed);
    TrainConfig.InputGuard g = config.inputGuard();
    InputGuard guard = InputGuard.fit(train, classifier, g.clip(), g.bounds().get(0), g.bounds().get(1),
        g.squeezeLevels(), g.flagRate());
    ObjectNode record = JSON.createObjectNode();
    record.put("trainer", classifier.trainer()).put("seed", seed).put("train_rows", trainRows)
        .put("test_rows", testRows).put("fingerprint", HardenedModel.fingerprint(classifier));
    record.set("settings", SETTINGS.valueToTree(config));
    record.set("labels", JSON.valueToTree(preparer.labels()));
    record.set("features", JSON.valueToTree(preparer.featureNames()));
    record.put("augmentation", surrogate == null ? (config.adversarial() == null ? "none" : "against the model itself")
        : "transferred from a linear surrogate");
    return new Trained(new HardenedModel(preparer, guard, classifier, record), train, test, trainRows, testRows);
  }

  /**
   * The plain linear model transferred attacks are crafted on: trained on the half of the training rows a second
   * seeded hash picks, so it shares the data's distribution but not the model's exact rows or hardening.
   */
  public static LinearSoftmax surrogate(Trained trained, TrainConfig config, long seed) {
    Classifier model = trained.model().classifier();
    return Trainers.surrogate(config).fit(trained.train().filter(surrogateHalf(seed)), model.numClasses(),
        model.numFeatures(), seed);
  }

  private static Column surrogateHalf(long seed) {
    return pmod(xxhash64(Columns.col(Columns.ID), lit(~seed)), lit(2)).equalTo(lit(0L));
  }

  /**
   * Each row twice: as it is at weight {@code 1 − mix} and attacked on the surrogate at weight {@code mix}, so every
   * original row keeps a total weight of 1.
   */
  private static Dataset<Row> transferredCopies(Dataset<Row> train, LinearSoftmax surrogate,
      TrainConfig.Adversarial adv) {
    Perturbation attack = Perturbation.of(adv.attack(), adv.norm(), adv.epsilon(), adv.steps());
    double mix = adv.mix();
    FlatMapFunction<Row, Row> copies = r -> {
      double[] x = ((Vector) r.get(1)).toArray();
      int label = (int) r.getDouble(2);
      List<Row> out = new ArrayList<>(2);
      if (mix < 1) {
        out.add(RowFactory.create(r.get(0), r.get(1), r.get(2), r.getDouble(3) * (1 - mix)));
      }
      out.add(RowFactory.create(r.get(0), Vectors.dense(attack.apply(surrogate, x, label)), r.get(2),
          r.getDouble(3) * mix));
      return out.iterator();
    };
    return train.flatMap(copies, Encoders.row(train.schema()));
  }
}
