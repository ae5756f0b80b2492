package io.poisonguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.poisonguard.audit.AuditLog;
import io.poisonguard.audit.ModelRecord;
import io.poisonguard.audit.Models;
import io.poisonguard.config.PipelineConfig;
import io.poisonguard.evaluate.RobustnessEvaluator;
import io.poisonguard.evaluate.RobustnessReport;
import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.sanitize.Verdict;
import io.poisonguard.sanitize.VerdictTables;
import io.poisonguard.train.HardenedModel;
import io.poisonguard.train.HardenedTraining;
import io.poisonguard.train.LinearSoftmax;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The training step of a pipeline, shared by {@code run} (after a passing gate) and {@code train}: reads the clean
 * table at one Delta version, trains and evaluates the hardened model, saves it under
 * {@code warehouse/<pipeline>/models/<model id>} and appends its record to {@code _audit/models}.
 */
final class ModelTraining {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SparkSession spark;
  private final PipelineConfig config;
  private final String warehouse;

  ModelTraining(SparkSession spark, PipelineConfig config, String warehouse) {
    this.spark = spark;
    this.config = config;
    this.warehouse = warehouse;
  }

  /**
   * Trains on the clean table at {@code cleanVersion} and records the model as {@code modelId}; {@code runId} names
   * the guard run that wrote that version (null when unknown).
   */
  ModelRecord train(String modelId, String runId, long cleanVersion) {
    VerdictTables tables = new VerdictTables(spark, warehouse + "/" + config.name());
    String cleanPath = tables.path(Verdict.CLEAN);
    Dataset<Row> clean = tables.readAt(Verdict.CLEAN, cleanVersion);
    FeatureSchema schema = Ingestor.schemaOfTable(config.input(), clean, cleanPath + "@v" + cleanVersion);
    HardenedTraining.Trained trained = HardenedTraining.fit(clean, schema, config.train(), config.seed());
    try {
      HardenedModel model = trained.model();
      LinearSoftmax surrogate = HardenedTraining.surrogate(trained, config.train(), config.seed());
      RobustnessReport report = RobustnessEvaluator.evaluate(trained.test(), model.classifier(), model.guard(),
          surrogate, config.train().evaluate().epsilons(), config.train().evaluate().attackSteps());
      ObjectNode record = model.record();
      record.put("model_id", modelId).put("pipeline", config.name()).put("run_id", runId);
      record.putObject("data").put("table", cleanPath).put("version", cleanVersion);
      record.set("evaluation", JSON.valueToTree(report));
      String modelPath = warehouse + "/" + config.name() + "/models/" + modelId;
      model.save(modelPath);
      return new Models(spark, new AuditLog(spark, warehouse)).append(new ModelRecord(modelId, config.name(), runId,
          Instant.now().truncatedTo(ChronoUnit.MILLIS), model.classifier().trainer(), modelPath, cleanPath,
          cleanVersion, trained.trainRows(), trained.testRows(), config.seed(), record.path("fingerprint").asText(),
          JSON.writeValueAsString(record.get("settings")), JSON.writeValueAsString(report), null, null));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save the model of " + modelId + ": " + e.getMessage(), e);
    } finally {
      trained.release();
    }
  }
}
