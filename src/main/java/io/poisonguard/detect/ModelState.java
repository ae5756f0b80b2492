package io.poisonguard.detect;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.SparkSession;

/**
 * Save/load of a fitted model: Spark ML's own metadata (so {@code Pipeline} and {@code PipelineModel} save and load
 * our stages like any other) plus the model's learned state as one small JSON document beside it. State is
 * O(features × classes + trees), never data.
 */
public final class ModelState {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STATE_FILE = "state.json";

  private ModelState() {}

  /** A writer saving {@code instance}'s params and {@code state}. */
  public static MLWriter writer(Params instance, Object state) {
    return new MLWriter() {
      @Override
      public void saveImpl(String path) {
        SparkSession spark = sparkSession();
        DefaultParamsWriter$.MODULE$.saveMetadata(instance, path, spark);
        write(spark, new Path(path, STATE_FILE), state);
      }
    };
  }

  /** Builds a model (or estimator) from its saved uid and state. */
  @FunctionalInterface
  public interface Factory<S, T> {
    /** A new instance with the saved uid and state. */
    T create(String uid, S state);
  }

  /** A reader restoring an instance saved by {@link #writer}: uid and state, then params. */
  public static <S, T extends Params> MLReader<T> reader(Class<S> stateType, Factory<S, T> factory) {
    return new MLReader<>() {
      @Override
      public T load(String path) {
        SparkSession spark = sparkSession();
        return restoreParams(spark, path, factory.create(uid(spark, path), readState(spark, path, stateType)));
      }
    };
  }

  /** Reads the state saved under {@code path}. */
  public static <T> T readState(SparkSession spark, String path, Class<T> type) {
    Path file = new Path(path, STATE_FILE);
    try (InputStream in = file.getFileSystem(spark.sparkContext().hadoopConfiguration()).open(file)) {
      return JSON.readValue(in, type);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read model state " + file + ": " + e.getMessage(), e);
    }
  }

  /** Loads the metadata saved under {@code path} and sets its params on {@code instance}. */
  public static <T extends Params> T restoreParams(SparkSession spark, String path, T instance) {
    DefaultParamsReader.Metadata metadata = org.apache.spark.ml.util.DefaultParamsReader$.MODULE$
        .loadMetadata(path, spark);
    metadata.getAndSetParams(instance, scala.Option.empty());
    return instance;
  }

  /** The uid saved under {@code path}. */
  public static String uid(SparkSession spark, String path) {
    return org.apache.spark.ml.util.DefaultParamsReader$.MODULE$.loadMetadata(path, spark).uid();
  }

  private static void write(SparkSession spark, Path file, Object state) {
    try {
      FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
      try (OutputStream out = fs.create(file, true)) {
        JSON.writeValue(out, state);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot write model state " + file + ": " + e.getMessage(), e);
    }
  }
}
