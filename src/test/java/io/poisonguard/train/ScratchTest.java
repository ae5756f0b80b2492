package io.poisonguard.train;

import io.poisonguard.config.InputConfig;
import io.poisonguard.config.PipelineLoader;
import io.poisonguard.config.TrainConfig;
import io.poisonguard.evaluate.RobustnessEvaluator;
import io.poisonguard.evaluate.RobustnessReport;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.ingest.Ingestor;
import io.poisonguard.spark.SharedSpark;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

@ExtendWith(SharedSpark.class)
class ScratchTest {
  @Test
  void scratch(SparkSession spark) throws Exception {
    String file = System.getProperty("scratch.file", "data/spambase.csv");
    String label = System.getProperty("scratch.label", "type");
    IngestedBatch b = new Ingestor(spark).read(new InputConfig(file, "csv", label, null, null, null, null, null, null), "r");
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    for (String variant : System.getProperty("scratch.variants").split("\\|")) {
      TrainConfig c = yaml.readValue(variant.isBlank() ? "{}" : variant, TrainConfig.class);
      long t0 = System.nanoTime();
      HardenedTraining.Trained t = HardenedTraining.fit(b.accepted(), b.features(), c, 42);
      long t1 = System.nanoTime();
      LinearSoftmax sur = Trainers.surrogate(c).fit(t.train(), t.model().classifier().numClasses(), t.model().classifier().numFeatures(), 7);
      RobustnessReport r = RobustnessEvaluator.evaluate(t.test(), t.model().classifier(), t.model().guard(), sur, c.evaluate().epsilons(), c.evaluate().attackSteps());
      System.out.printf("VARIANT %s fit %.1fs eval %.1fs%n  %s%n", variant, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9, r);
      t.release();
    }
  }
}
