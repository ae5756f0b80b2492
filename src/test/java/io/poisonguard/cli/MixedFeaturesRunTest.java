package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Categorical features, missing values, an id and a source column, and a Parquet input, through {@code run}. */
@ExtendWith(SharedSpark.class)
class MixedFeaturesRunTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  @Test
  void categoricalAndMissingValuesFlowThroughEveryStage(SparkSession spark) throws Exception {
    List<String> all = Files.readAllLines(Path.of("data/spambase.csv"));
    List<String> lines = new ArrayList<>(List.of("id,channel,feed," + all.get(0)));
    String[] channels = {"web", "mail", "api"};
    for (int i = 1; i < all.size(); i += 5) {
      String row = all.get(i);
      if (i % 7 == 0) {
        row = row.replaceFirst("^[^,]*", "");  // a missing numeric value
      }
      String channel = i % 11 == 0 ? "" : channels[i % 3];  // and a missing category
      lines.add("r" + i + "," + channel + ",partner-" + (i % 2) + "," + row);
    }
    Path csv = dir.resolve("mixed.csv");
    Files.write(csv, lines);
    Path pipeline = dir.resolve("mixed.yaml");
    Files.writeString(pipeline, """
        name: mixed
        input:
          path: %s
          label: type
          id: id
          source: feed
        gate:
          max_quarantine_fraction: 0.5
        """.formatted(csv));
    Path warehouse = dir.resolve("wh");
    Path summary = dir.resolve("s.json");
    CliRun run = CliRun.of("run", "--pipeline", pipeline.toString(), "--warehouse", warehouse.toString(),
        "--output-json", summary.toString());
    assertEquals(0, run.exitCode(), run.out() + run.err());
    JsonNode s = JSON.readTree(summary.toFile());
    assertEquals(lines.size() - 1, s.get("rows_read").asInt());
    assertEquals(0, s.get("rejected").asInt(), "empty values are missing values, not malformed rows");

    Dataset<Row> clean = spark.read().format("delta").load(warehouse.resolve("mixed/clean").toString());
    assertTrue(clean.filter(functions.col("channel").isNull()).count() > 0, "missing categories are kept");
    assertTrue(clean.filter(functions.col("make").isNull()).count() > 0, "missing numbers are kept as nulls");
    Dataset<Row> quarantine = spark.read().format("delta").load(warehouse.resolve("mixed/quarantine").toString());
    // line 1 of the data: channel "mail", feed partner-1, whichever table it went to
    Row first = clean.union(quarantine).filter(functions.col("id").equalTo("r1")).first();
    assertEquals(List.of("mail", "partner-1", "partner-1"), List.of(first.<String>getAs("channel"),
        first.<String>getAs("feed"), first.<String>getAs(Columns.SOURCE)));
    assertEquals(2, clean.select(Columns.SOURCE).distinct().count(), "the source column is the provenance");

    // the same batch as Parquet, every column in the same order of rows, reads the same records and reaches the
    // same verdicts
    Path parquet = dir.resolve("mixed.parquet");
    String[] columns = lines.get(0).replace("\"", "").split(",");
    clean.union(quarantine)
        .orderBy(functions.substring(functions.col("id"), 2, 10).cast("int"))
        .select(java.util.Arrays.stream(columns).map(Columns::col).toArray(org.apache.spark.sql.Column[]::new))
        .coalesce(1).write().parquet(parquet.toString());
    Path parquetSummary = dir.resolve("p.json");
    Path parquetWarehouse = dir.resolve("wh2");
    CliRun fromParquet = CliRun.of("run", "--pipeline", pipeline.toString(), "--warehouse",
        parquetWarehouse.toString(), "--set", "input.path=" + parquet, "--set", "input.format=parquet",
        "--output-json", parquetSummary.toString());
    assertEquals(0, fromParquet.exitCode(), fromParquet.out() + fromParquet.err());
    assertEquals(lines.size() - 1, JSON.readTree(parquetSummary.toFile()).get("rows_read").asInt());
    for (String table : List.of("mixed/clean", "mixed/quarantine")) {
      assertEquals(ids(spark, warehouse.resolve(table)), ids(spark, parquetWarehouse.resolve(table)), table);
    }
  }

  private static List<String> ids(SparkSession spark, Path table) {
    return spark.read().format("delta").load(table.toString()).select(Columns.ID).orderBy(Columns.ID)
        .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
  }

  @Test
  void columnNamesWithDotsAreTakenLiterally(SparkSession spark) throws Exception {
    // the Letter data names its features x.box, y.box, ...: Spark would read them as struct fields
    List<String> all = Files.readAllLines(Path.of("data/letter.csv"));
    Path csv = dir.resolve("letter.csv");
    Files.write(csv, all.subList(0, 601));
    Path pipeline = dir.resolve("letter.yaml");
    Files.writeString(pipeline, "name: letters\ninput: {path: %s, label: lettr}\ngate: {max_quarantine_fraction: 0.5}\n"
        .formatted(csv));
    Path summary = dir.resolve("letter.json");
    CliRun run = CliRun.of("run", "--pipeline", pipeline.toString(), "--warehouse", dir.resolve("wh-l").toString(),
        "--output-json", summary.toString());
    assertEquals(0, run.exitCode(), run.out() + run.err());
    assertEquals(600, JSON.readTree(summary.toFile()).get("rows_read").asInt());
    assertTrue(List.of(spark.read().format("delta").load(dir.resolve("wh-l/letters/clean").toString()).columns())
        .contains("x.box"));
  }
}
