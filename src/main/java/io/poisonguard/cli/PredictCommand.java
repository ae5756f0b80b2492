package io.poisonguard.cli;

import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.poisonguard.config.ConfigException;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SingleCsvWriter;
import io.poisonguard.spark.SparkSessions;
import io.poisonguard.train.CertifiedClassifier;
import io.poisonguard.train.Classifier;
import io.poisonguard.train.HardenedModel;
import io.poisonguard.train.InputGuard;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * {@code poisonguard predict}: scores new data through a saved model and its input guard, keeping every input row
 * and column and adding the prediction, its probability, the squeezing disagreement and evasion flag, and the
 * certified radius when the model certifies. A row whose numeric feature is not a number gets no prediction and says
 * why; no row is dropped.
 */
public final class PredictCommand implements Command {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  static final String PREDICTION = "prediction";
  static final String PROBABILITY = "probability";
  static final String DISAGREEMENT = "squeeze_disagreement";
  static final String SUSPECT = "evasion_suspect";
  static final String RADIUS = "certified_radius";
  static final String ERROR = "error";
  private static final String RAW = "__pg_raw_";
  private static final String PROBLEM = "__pg_problem";

  @Override
  public String name() {
    return "predict";
  }

  @Override
  public String summary() {
    return "score new data through a saved model and its input guard";
  }

  @Override
  public String usage() {
    return """
        usage: poisonguard predict --model DIR --input FILE --out DIR [options]

          --model DIR      a model folder, WAREHOUSE/<pipeline>/models/<model id>
          --input FILE     rows to score with the model's feature columns (the label column is optional)
          --out DIR        writes DIR/predictions.csv (input columns plus prediction, probability,
                           squeeze_disagreement, evasion_suspect, certified_radius for partition ensembles, error)
                           and DIR/summary.json (counts per class, flagged share, accuracy when labels are given)
          --format F       csv (default, with a header), parquet or json
          --master URL     Spark master
        """;
  }

  @Override
  public int execute(String[] argv, PrintStream out) throws Exception {
    Args args = Args.parse(name(), argv, Set.of("model", "input", "out", "format", "master"), Set.of());
    String modelDir = args.require("model");
    if (!Files.isRegularFile(Path.of(modelDir, HardenedModel.RECORD))) {
      throw new ConfigException("--model: " + modelDir + " is not a model folder (no " + HardenedModel.RECORD
          + "); models are under WAREHOUSE/<pipeline>/models/<model id>");
    }
    // the preparer is read by Spark ML's reader, which needs the session
    SparkSession spark = SparkSessions.create("poisonguard-predict", args.get("master", null), Map.of());
    HardenedModel model;
    try {
      model = HardenedModel.load(modelDir);
    } catch (IOException e) {
      throw new ConfigException("--model: " + e.getMessage());
    }
    String input = args.require("input");
    String format = args.get("format", "csv");
    if (!List.of("csv", "parquet", "json").contains(format)) {
      throw new ConfigException("--format: expected csv, parquet or json, got '" + format + "'");
    }
    if (!Files.exists(Path.of(input))) {
      throw new ConfigException("--input: " + input + " does not exist");
    }
    Path outDir = Path.of(args.require("out"));
    Dataset<Row> rows = read(spark, input, format);
    Dataset<Row> predictions = predict(model, rows, input);
    Files.createDirectories(outDir);
    SingleCsvWriter.write(predictions, outDir.resolve("predictions.csv").toString());
    Map<String, Object> summary = summarize(model, predictions);
    Files.writeString(outDir.resolve("summary.json"), JSON.writeValueAsString(summary));
    out.printf("scored %s rows with model %s: %s; %s%% flagged as likely evasion; wrote %s%n", summary.get("rows"),
        model.record().path("model_id").asText(modelDir), summary.get("predicted"), summary.get("flagged_percent"),
        outDir.resolve("predictions.csv"));
    return ExitCodes.OK;
  }

  private static Dataset<Row> read(SparkSession spark, String input, String format) {
    try {
      return format.equals("csv") ? spark.read().option("header", "true").option("inferSchema", "true").csv(input)
          : spark.read().format(format).load(input);
    } catch (Exception e) {
      throw new ConfigException("--input: cannot read " + input + " as " + format + " (" + e.getMessage() + ")");
    }
  }

  /** The input rows with the model's outputs appended. */
  static Dataset<Row> predict(HardenedModel model, Dataset<Row> rows, String origin) {
    List<String> numeric = model.preparer().numericFeatures();
    for (String c : model.preparer().featureNames()) {
      if (!List.of(rows.columns()).contains(c)) {
        throw new ConfigException("--input: " + origin + " has no column '" + c + "', a feature of the model");
      }
    }
    List<Column> problems = new ArrayList<>();
    for (String c : numeric) {
      Column raw = Columns.col(c);
      Column number = raw.try_cast(DataTypes.DoubleType);
      problems.add(when(raw.isNotNull().and(number.isNull()), lit(c + ": not a number"))
          .when(number.equalTo(lit(Double.POSITIVE_INFINITY)).or(number.equalTo(lit(Double.NEGATIVE_INFINITY))),
              lit(c + ": not a finite number")));
    }
    String[] inputColumns = rows.columns();
    // the preparer reads numbers; the output shows each value as it was given, so the originals ride along renamed
    List<Column> staged = new ArrayList<>();
    for (int i = 0; i < inputColumns.length; i++) {
      Column raw = Columns.col(inputColumns[i]);
      staged.add(raw.as(RAW + i));
      staged.add(numeric.contains(inputColumns[i]) ? raw.try_cast(DataTypes.DoubleType).as(inputColumns[i]) : raw);
    }
    staged.add((problems.isEmpty() ? lit(null).cast("string") : concat_ws("; ", problems.toArray(Column[]::new)))
        .as(PROBLEM));
    Dataset<Row> checked = rows.select(staged.toArray(Column[]::new));
    Dataset<Row> prepared = model.preparer().transform(checked);
    Classifier classifier = model.classifier();
    InputGuard guard = model.guard();
    List<String> labels = model.preparer().labels();
    boolean certified = classifier instanceof CertifiedClassifier;
    StructType schema = rows.schema().add(PREDICTION, DataTypes.StringType).add(PROBABILITY, DataTypes.DoubleType)
        .add(DISAGREEMENT, DataTypes.DoubleType).add(SUSPECT, DataTypes.BooleanType);
    if (certified) {
      schema = schema.add(RADIUS, DataTypes.IntegerType);
    }
    schema = schema.add(ERROR, DataTypes.StringType);
    int width = inputColumns.length;
    Column[] selected = new Column[width + 2];
    for (int i = 0; i < width; i++) {
      selected[i] = Columns.col(RAW + i);
    }
    selected[width] = Columns.col(Columns.FEATURES);
    selected[width + 1] = functions.nullif(Columns.col(PROBLEM), lit(""));
    MapPartitionsFunction<Row, Row> score = it -> new java.util.Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Row next() {
        Row r = it.next();
        List<Object> values = new ArrayList<>(width + 6);
        for (int i = 0; i < width; i++) {
          values.add(r.get(i));
        }
        String problem = r.isNullAt(width + 1) ? null : r.getString(width + 1);
        if (problem != null) {
          values.add(null);
          values.add(null);
          values.add(null);
          values.add(null);
          if (certified) {
            values.add(null);
          }
        } else {
          double[] x = ((Vector) r.get(width)).toArray();
          double[] served = guard.clipped(x);
          double[] p = classifier.probabilities(served);
          int k = io.poisonguard.train.Classifier.argMax(p);
          double disagreement = guard.disagreement(classifier, x);
          values.add(labels.get(k));
          values.add(p[k]);
          values.add(disagreement);
          values.add(guard.flags(disagreement));
          if (certified) {
            values.add(((CertifiedClassifier) classifier).certifiedRadius(served));
          }
        }
        values.add(problem);
        return RowFactory.create(values.toArray());
      }
    };
    return prepared.select(selected).mapPartitions(score, Encoders.row(schema));
  }

  private static Map<String, Object> summarize(HardenedModel model, Dataset<Row> predictions) {
    String label = model.preparer().getOrDefault(model.preparer().labelCol());
    boolean labelled = List.of(predictions.columns()).contains(label);
    Column right = labelled ? when(Columns.col(label).cast("string").equalTo(Columns.col(PREDICTION)), 1).otherwise(0)
        : lit(0);
    Row totals = predictions.agg(functions.count(lit(1)), functions.count(Columns.col(PREDICTION)),
        functions.sum(when(Columns.col(SUSPECT), 1).otherwise(0)), functions.sum(right)).head();
    long rows = totals.getLong(0);
    long scored = totals.getLong(1);
    Map<String, Long> predicted = new LinkedHashMap<>();
    // one row per class
    for (Row r : predictions.filter(Columns.col(PREDICTION).isNotNull()).groupBy(PREDICTION).count()
        .orderBy(PREDICTION).collectAsList()) {
      predicted.put(r.getString(0), r.getLong(1));
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("model", model.record().path("model_id").asText());
    summary.put("rows", rows);
    summary.put("scored", scored);
    summary.put("not_scored", rows - scored);
    summary.put("predicted", predicted);
    summary.put("flagged_percent", scored == 0 ? 0 : Math.round(1000.0 * (totals.isNullAt(2) ? 0 : totals.getLong(2))
        / scored) / 10.0);
    if (labelled && scored > 0) {
      summary.put("accuracy", (totals.isNullAt(3) ? 0 : totals.getLong(3)) / (double) scored);
    }
    return summary;
  }
}
