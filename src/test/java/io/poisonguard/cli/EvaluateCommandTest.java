package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.spark.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code evaluate} on hand-written scores and truth with known answers. */
@ExtendWith(SharedSpark.class)
class EvaluateCommandTest {
  @Test
  void wholeFeedVerdictsAreMeasuredApartFromRowEvidence(@TempDir Path dir) throws Exception {
    // 8 rows, 2 poisoned. Flagged: a (poisoned, own evidence), c (clean, only the feed verdict), d (clean, own
    // evidence and the feed verdict). The score ranks both poisoned rows first: ROC-AUC 1.
    Files.writeString(dir.resolve("scores.csv"), """
        id,poison_score,flagged,reasons,score_robust_z
        a,0.999,true,robust_z:feature=x,9.0
        b,0.98,false,,8.0
        c,0.7,true,source:feed=f2,1.0
        d,0.9,true,robust_z:feature=y;source:feed=f2,5.0
        e,0.1,false,,0.5
        f,0.2,false,,0.6
        g,0.3,false,,0.7
        h,0.4,false,,0.8
        """);
    Files.writeString(dir.resolve("truth.csv"), """
        id,poisoned,attack
        a,true,source
        b,true,source
        c,false,
        d,false,
        e,false,
        f,false,
        g,false,
        h,false,
        """);
    Path json = dir.resolve("evaluate.json");
    CliRun run = CliRun.of("evaluate", "--scores", dir.resolve("scores.csv").toString(), "--truth",
        dir.resolve("truth.csv").toString(), "--json", json.toString());
    assertEquals(0, run.exitCode(), run.err());
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    JsonNode ensemble = report.get("metrics").get("ensemble");
    assertEquals(1.0, ensemble.get("roc_auc").asDouble(), 1e-12);
    assertEquals(2.0 / 6, ensemble.get("fpr").asDouble(), 1e-12);
    assertEquals(1.0 / 3, ensemble.get("precision").asDouble(), 1e-12);
    JsonNode own = report.get("row_evidence_flag");
    assertEquals(1.0 / 6, own.get("fpr").asDouble(), 1e-12);
    assertEquals(0.5, own.get("recall").asDouble(), 1e-12);
    assertEquals(0.5, own.get("precision").asDouble(), 1e-12);
  }
}
