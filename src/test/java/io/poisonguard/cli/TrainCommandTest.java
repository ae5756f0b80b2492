package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.audit.AuditLog;
import io.poisonguard.audit.ModelRecord;
import io.poisonguard.audit.Models;
import io.poisonguard.spark.SharedSpark;
import io.poisonguard.train.HardenedModel;
import io.poisonguard.train.PartitionEnsemble;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The hardened quickstart end to end: {@code run} trains after its passing gate and records the model; {@code train}
 * retrains from the recorded clean version to the same model; {@code predict} applies a saved model to new rows,
 * keeping a malformed one; bad input gets one line and exit 2.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PIPELINE = "pipelines/quickstart-hardened.yaml";
  /** Fewer passes than the pipeline's 200 keep the test short; the model is still the pipeline's. */
  private static final String[] FAST = {"--set", "train.max_iter=80", "--set", "train.evaluate.epsilons=[0.25, 0.5]"};

  @TempDir
  static Path dir;

  private Path warehouse;
  private String runId;
  private SparkSession spark;

  @BeforeAll
  void hardenedRun(SparkSession session) throws IOException {
    spark = session;
    warehouse = dir.resolve("warehouse");
    Path summary = dir.resolve("summary.json");
    CliRun run = CliRun.of(concat(new String[] {"run", "--pipeline", PIPELINE, "--warehouse", warehouse.toString(),
        "--output-json", summary.toString()}, FAST));
    assertEquals(0, run.exitCode(), run.out() + run.err());
    assertTrue(run.out().contains("[8/9] train"), run.out());
    runId = JSON.readTree(summary.toFile()).get("run_id").asText();
  }

  @Test
  @Order(1)
  void theRunRecordsItsModelWithTheCleanVersionItLearntFrom() throws Exception {
    List<ModelRecord> models = models();
    assertEquals(1, models.size());
    ModelRecord m = models.get(0);
    assertEquals(runId, m.runId());
    assertEquals(runId, m.modelId());
    assertEquals(0, m.cleanVersion());
    assertEquals("linear", m.trainer());
    assertTrue(m.hashMatches());
    long cleanRows = spark.read().format("delta").option("versionAsOf", 0).load(m.cleanTable()).count();
    assertEquals(cleanRows, m.trainRows() + m.testRows(), "every clean row trains or is held out");
    HardenedModel saved = HardenedModel.load(m.modelPath());
    assertEquals(m.fingerprint(), HardenedModel.fingerprint(saved.classifier()));
    JsonNode evaluation = JSON.readTree(m.evaluationJson());
    assertTrue(evaluation.get("cleanAccuracy").asDouble() > 0.88, m.evaluationJson());
    assertEquals(2, evaluation.get("attacks").size());
    JsonNode record = JSON.readTree(Path.of(m.modelPath(), HardenedModel.RECORD).toFile());
    assertEquals(0, record.at("/data/version").asLong());
    assertEquals(0.15, record.at("/settings/adversarial/epsilon").asDouble());
    String report = Files.readString(warehouse.resolve("quickstart-hardened/reports/" + runId + "/report.html"));
    assertTrue(report.contains("linear · model " + runId) && report.contains("<th>white-box PGD</th>")
        && report.contains("version 0"), "the run's report shows its model's hardening table");
    JsonNode written = JSON.readTree(warehouse.resolve("quickstart-hardened/reports/" + runId + "/report.json")
        .toFile());
    assertEquals(JSON.readTree(JSON.writeValueAsString(io.poisonguard.report.RunDocument.load(spark,
        warehouse.toString(), runId).toJson(io.poisonguard.report.Redactor.none()))), written, "the report the run wrote from its own records, "
        + "model included, against the document read back from the audit");
  }

  @Test
  @Order(2)
  void retrainingFromTheRecordedVersionReproducesTheModel() throws IOException {
    ModelRecord original = models().get(0);
    CliRun train = CliRun.of(concat(new String[] {"train", "--pipeline", PIPELINE, "--warehouse",
        warehouse.toString(), "--version", "0"}, FAST));
    assertEquals(0, train.exitCode(), train.out() + train.err());
    List<ModelRecord> models = models();
    assertEquals(2, models.size());
    ModelRecord retrained = models.get(1);
    assertNotEquals(original.modelId(), retrained.modelId());
    assertEquals(original.fingerprint(), retrained.fingerprint());
    assertEquals(runId, retrained.runId(), "the run that wrote clean v0 is named");
    assertEquals(original.recordHash(), retrained.previousHash());
    assertTrue(retrained.hashMatches());
    assertTrue(train.out().contains("fingerprint " + original.fingerprint().substring(0, 12)), train.out());
  }

  @Test
  @Order(3)
  void predictAppliesTheSavedModelAndKeepsEveryRow() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("data/spambase.csv"));
    List<String> sample = new ArrayList<>(lines.subList(0, 301));
    String[] broken = sample.get(1).split(",", -1);
    broken[0] = "lots";
    sample.add(String.join(",", broken));
    Path input = dir.resolve("new.csv");
    Files.write(input, sample);
    Path out = dir.resolve("predictions");
    CliRun predict = CliRun.of("predict", "--model", models().get(0).modelPath(), "--input", input.toString(),
        "--out", out.toString());
    assertEquals(0, predict.exitCode(), predict.out() + predict.err());
    List<String> predicted = Files.readAllLines(out.resolve("predictions.csv"));
    assertEquals(302, predicted.size(), "header and every input row");
    assertTrue(predicted.get(0).endsWith("prediction,probability,squeeze_disagreement,evasion_suspect,error"),
        predicted.get(0));
    assertTrue(predicted.get(301).startsWith("lots,") && predicted.get(301).endsWith("make: not a number"),
        predicted.get(301));
    JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
    assertEquals(300, summary.get("scored").asLong());
    assertEquals(1, summary.get("not_scored").asLong());
    assertTrue(summary.get("accuracy").asDouble() > 0.85, summary.toString());
  }

  @Test
  @Order(4)
  void aPartitionEnsembleCertifiesEachPrediction() throws IOException {
    CliRun train = CliRun.of("train", "--pipeline", PIPELINE, "--warehouse", warehouse.toString(),
        "--set", "train.trainer=tribuo-cart", "--set", "train.adversarial=null", "--set",
        "train.partition_ensemble.partitions=20", "--set", "train.evaluate.epsilons=[0.25]");
    assertEquals(0, train.exitCode(), train.out() + train.err());
    assertTrue(train.out().contains("certified accuracy against r poisoned rows: r=0:"), train.out());
    ModelRecord m = models().get(models().size() - 1);
    assertEquals(PartitionEnsemble.TRAINER, m.trainer());
    JsonNode certified = JSON.readTree(m.evaluationJson()).get("certified");
    assertEquals(11, certified.size(), "radii 0..10 of 20 partitions");
    for (int r = 1; r < certified.size(); r++) {
      assertTrue(certified.get(r).get("accuracy").asDouble() <= certified.get(r - 1).get("accuracy").asDouble());
    }
    assertTrue(certified.get(1).get("accuracy").asDouble() > 0.6, certified.toString());
    Path out = dir.resolve("certified");
    CliRun predict = CliRun.of("predict", "--model", m.modelPath(), "--input", "data/spambase.csv", "--out",
        out.toString());
    assertEquals(0, predict.exitCode(), predict.err());
    assertTrue(Files.readAllLines(out.resolve("predictions.csv")).get(0).contains("certified_radius"));
  }

  @Test
  @Order(5)
  void badInputGetsOneLineAndExitTwo() throws IOException {
    CliRun noSection = CliRun.of("train", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        warehouse.toString());
    assertEquals(2, noSection.exitCode());
    assertEquals(1, noSection.errLines(), noSection.err());
    assertTrue(noSection.err().contains("no 'train' section"), noSection.err());

    CliRun badTrainer = CliRun.of("train", "--pipeline", PIPELINE, "--warehouse", warehouse.toString(), "--set",
        "train.trainer=svm");
    assertEquals(2, badTrainer.exitCode());
    assertTrue(badTrainer.err().contains("train.trainer: unknown trainer 'svm'"), badTrainer.err());

    CliRun robustTree = CliRun.of("train", "--pipeline", PIPELINE, "--warehouse", warehouse.toString(), "--set",
        "train.trainer=tribuo-cart", "--set", "train.robust_loss.epsilon=0.1");
    assertEquals(2, robustTree.exitCode());
    assertTrue(robustTree.err().contains("train.robust_loss"), robustTree.err());

    Path input = dir.resolve("no-make.csv");
    Files.writeString(input, "address,all\n0.1,0.2\n");
    CliRun missing = CliRun.of("predict", "--model", warehouse.resolve("quickstart-hardened/models/" + runId)
        .toString(), "--input", input.toString(), "--out", dir.resolve("x").toString());
    assertEquals(2, missing.exitCode());
    assertEquals(1, missing.errLines(), missing.err());
    assertTrue(missing.err().contains("has no column 'make'"), missing.err());

    CliRun noModel = CliRun.of("predict", "--model", dir.resolve("nowhere").toString(), "--input", input.toString(),
        "--out", dir.resolve("x").toString());
    assertEquals(2, noModel.exitCode());
    assertTrue(noModel.err().contains("is not a model folder"), noModel.err());
  }

  /** Verify checks every model record, and notices a saved classifier that no longer matches its fingerprint. */
  @Test
  @Order(6)
  void auditVerifyChecksTheModels() throws IOException {
    CliRun ok = CliRun.of("audit", "verify", "--warehouse", warehouse.toString());
    assertEquals(0, ok.exitCode(), ok.out() + ok.err());
    // the models the earlier steps recorded, read from the audit rather than assumed from their success
    int recorded = models().size();
    assertTrue(recorded >= 1, "the run's own model at least");
    assertTrue(ok.out().contains("1 run record(s), 0 release(s) and " + recorded + " model(s)"), ok.out());
    Path descriptor = Path.of(models().get(0).modelPath(), "classifier", "classifier.json");
    JsonNode node = JSON.readTree(descriptor.toFile());
    com.fasterxml.jackson.databind.node.ArrayNode first = (com.fasterxml.jackson.databind.node.ArrayNode)
        node.get("weights").get(0);
    first.set(0, first.get(0).asDouble() + 1.0);
    Files.writeString(descriptor, JSON.writeValueAsString(node));
    CliRun tampered = CliRun.of("audit", "verify", "--warehouse", warehouse.toString());
    assertEquals(ExitCodes.AUDIT_FAILED, tampered.exitCode(), tampered.out());
    assertTrue(tampered.out().contains("model " + runId + " (pipeline quickstart-hardened): the classifier saved "
        + "under"), tampered.out());
  }

  private List<ModelRecord> models() {
    return new Models(spark, new AuditLog(spark, warehouse.toString())).list("quickstart-hardened");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
