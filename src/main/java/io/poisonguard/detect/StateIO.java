package io.poisonguard.detect;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.SparkSession;
import scala.Option;

/**
 * Save/load of fitted models in Spark's own layout: {@code <path>/metadata} written by
 * {@link DefaultParamsWriter} (class, uid, Params; what {@code Pipeline} load expects) and the fitted state as
 * one small JSON file {@code <path>/data/state.json} beside it. The state is O(features × classes) or a
 * few hundred small trees, so a JSON file read on the driver is the right size; no Parquet job is needed.
 */
final class StateIO {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // infinite robust scales / tails survive a round trip
      .build();

  private StateIO() {}

  /** A writer for a model whose fitted state is the JSON-serialisable {@code state}. */
  static MLWriter writer(Params model, Object state) {
    return writer(model, state, path -> { });
  }

  /**
   * A writer for a model whose fitted state is the JSON-serialisable {@code state} plus parts saved in a format of
   * their own ({@code alongside}, given the model's path, writes them under it).
   */
  static MLWriter writer(Params model, Object state, Consumer<String> alongside) {
    return new MLWriter() {
      @Override
      public void saveImpl(String path) {
        DefaultParamsWriter.saveMetadata(model, path, sparkSession());
        Path file = new Path(new Path(path, "data"), "state.json");
        try (OutputStream out = fileSystem(file, sparkSession()).create(file, true)) {
          JSON.writeValue(out, state);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot write model state " + file, e);
        }
        alongside.accept(path);
      }
    };
  }

  /** A reader that rebuilds a model from its uid and state, then restores its Params from the metadata. */
  static <M extends Params, S> MLReader<M> reader(Class<? extends M> modelClass, Class<S> stateClass,
      BiFunction<String, S, ? extends M> build) {
    return readerWithParts(modelClass, stateClass, (uid, state, path) -> build.apply(uid, state));
  }

  /** Builds a model from its uid, its state and the path it was saved at (to read what was saved alongside). */
  @FunctionalInterface
  interface Build<S, M> {
    M build(String uid, S state, String path);
  }

  /** A reader for a model saved with parts beside its state ({@link #writer(Params, Object, Consumer)}). */
  static <M extends Params, S> MLReader<M> readerWithParts(Class<? extends M> modelClass, Class<S> stateClass,
      Build<S, ? extends M> build) {
    return new MLReader<M>() {
      @Override
      public M load(String path) {
        DefaultParamsReader.Metadata metadata =
            DefaultParamsReader.loadMetadata(path, sparkSession(), modelClass.getName());
        Path file = new Path(new Path(path, "data"), "state.json");
        S state;
        try (InputStream in = fileSystem(file, sparkSession()).open(file)) {
          state = JSON.readValue(in, stateClass);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read model state " + file, e);
        }
        M model = build.build(metadata.uid(), state, path);
        metadata.getAndSetParams(model, Option.empty());
        return model;
      }
    };
  }

  private static FileSystem fileSystem(Path file, SparkSession spark) throws IOException {
    return file.getFileSystem(spark.sparkContext().hadoopConfiguration());
  }
}
