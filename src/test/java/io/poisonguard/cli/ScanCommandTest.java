package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.spark.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code scan} on the bundled breast-cancer set with injected outliers: what scores.csv says about each row. */
@ExtendWith(SharedSpark.class)
class ScanCommandTest {
  @Test
  void everyDetectorsTailProbabilityFallsWithItsScoreAndBacksTheReasons(@TempDir Path dir) throws Exception {
    Path rt = attacked(dir, "outlier", "0.05");
    Path out = dir.resolve("scan");
    CliRun scan = CliRun.of("scan", "--input", rt.resolve("data.csv").toString(), "--label", "diagnosis", "--id",
        "id", "--seed", "7", "--out", out.toString());
    assertEquals(0, scan.exitCode(), scan.err());

    JsonNode summary = new ObjectMapper().readTree(out.resolve("summary.json").toFile());
    List<String> detectors = new ArrayList<>();
    summary.get("detectors").forEach(d -> detectors.add(d.asText()));
    double flagLevel = summary.get("flag_level").asDouble();
    // the evidence in reasons holds commas: read the file as a CSV reader does
    Dataset<Row> scores = SparkSession.active().read().option("header", true).csv(out.resolve("scores.csv").toString());
    List<String> header = List.of(scores.columns());
    List<String[]> rows = scores.collectAsList().stream().map(ScanCommandTest::fields).toList();
    assertEquals(summary.get("scored").asLong(), rows.size());

    for (String detector : detectors) {
      int score = header.indexOf("score_" + detector);
      int p = header.indexOf("p_" + detector);
      assertTrue(score >= 0 && p >= 0, detector + " in " + header);
      // a higher score is never less extreme: sorted by score, the tail probability never rises
      List<String[]> byScore = rows.stream().filter(r -> !r[score].isEmpty() && !r[score].equals("NaN"))
          .sorted(Comparator.comparingDouble(r -> Double.parseDouble(r[score]))).toList();
      double previous = 1.0;
      for (String[] r : byScore) {
        double tail = Double.parseDouble(r[p]);
        assertTrue(tail >= 0 && tail <= 1, detector + " p " + tail);
        assertTrue(tail <= previous + 1e-12, detector + ": p " + tail + " after " + previous);
        previous = tail;
      }
    }

    // every detector a flagged row names as a reason has a tail probability under the flag level
    int flagged = header.indexOf("flagged");
    int reasons = header.indexOf("reasons");
    long named = 0;
    for (String[] r : rows) {
      if (!Boolean.parseBoolean(r[flagged])) {
        assertTrue(r[reasons].isEmpty(), String.join(",", r));
        continue;
      }
      assertFalse(r[reasons].isEmpty(), String.join(",", r));
      for (String reason : r[reasons].split(";")) {
        String code = reason.substring(0, reason.indexOf(':'));
        double tail = Double.parseDouble(r[header.indexOf("p_" + code)]);
        assertTrue(tail <= flagLevel, reason + " with p " + tail);
        named++;
      }
    }
    // 5% injected outliers of ~570 rows: the flag and its reasons are exercised
    assertTrue(named >= 20, "reasons named: " + named);
  }

  /**
   * The same attacked rows in one file and dealt round-robin over three (in another order and in three times the
   * Spark partitions) get the same verdicts and, to rounding, the same scores: the detectors' driver samples are
   * chosen and ordered by a hash of the id, not by partition and position. (On these 569 rows every quantile sketch
   * is exact; sums in another order differ in the last bits.)
   */
  @Test
  void aBatchSplitOverSeveralFilesGetsTheVerdictsOfTheSameRowsInOne(@TempDir Path dir) throws Exception {
    Path rt = attacked(dir, "label-flip", "0.1");
    List<String> lines = Files.readAllLines(rt.resolve("data.csv"));
    Path split = Files.createDirectories(dir.resolve("split"));
    for (int f = 0; f < 3; f++) {
      List<String> file = new ArrayList<>(List.of(lines.get(0)));
      for (int i = 1 + f; i < lines.size(); i += 3) {
        file.add(lines.get(i));
      }
      Files.write(split.resolve("part-" + f + ".csv"), file);
    }
    Map<String, String[]> whole = scan(rt.resolve("data.csv"), dir.resolve("whole"));
    Map<String, String[]> parts = scan(split, dir.resolve("parts"));
    assertEquals(whole.keySet(), parts.keySet());
    long flagged = 0;
    for (Map.Entry<String, String[]> e : whole.entrySet()) {
      String[] a = e.getValue();
      String[] b = parts.get(e.getKey());
      assertEquals(a[1], b[1], "flagged, row " + e.getKey());
      assertEquals(a[2], b[2], "reasons, row " + e.getKey());
      assertEquals(Double.parseDouble(a[0]), Double.parseDouble(b[0]), 1e-9, "poison score, row " + e.getKey());
      flagged += Boolean.parseBoolean(a[1]) ? 1 : 0;
    }
    assertTrue(flagged > 0, "some rows are flagged, so the verdicts are compared on both sides");
  }

  /** The red team's output folder (data.csv with an id column, truth.csv) for breast cancer under {@code attack}. */
  private static Path attacked(Path dir, String attack, String rate) {
    Path rt = dir.resolve("rt");
    CliRun run = CliRun.of("redteam", "--input", "data/breast_cancer.csv", "--label", "diagnosis", "--attack", attack,
        "--rate", rate, "--seed", "7", "--out", rt.toString());
    assertEquals(0, run.exitCode(), run.err());
    return rt;
  }

  /** scores.csv of a scan of {@code input}: per id, its poison score, flag and reasons. */
  private static Map<String, String[]> scan(Path input, Path out) {
    CliRun scan = CliRun.of("scan", "--input", input.toString(), "--label", "diagnosis", "--id", "id", "--seed", "7",
        "--out", out.toString());
    assertEquals(0, scan.exitCode(), scan.err());
    Dataset<Row> scores = SparkSession.active().read().option("header", true).csv(out.resolve("scores.csv").toString());
    Map<String, String[]> byId = new TreeMap<>();
    for (Row r : scores.select("id", "poison_score", "flagged", "reasons").collectAsList()) {
      String[] f = fields(r);
      byId.put(f[0], new String[] {f[1], f[2], f[3]});
    }
    return byId;
  }

  /** A row's fields as text, a missing one as "". */
  private static String[] fields(Row row) {
    String[] out = new String[row.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = row.isNullAt(i) ? "" : row.getString(i);
    }
    return out;
  }
}
