package io.poisonguard.sanitize;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.ingest.FeatureSchema;
import io.poisonguard.profile.Profile;
import io.poisonguard.profile.Profiler;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.File;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which columns of real data the verdict tables write plain: Spambase's word frequencies repeat (a few percent of
 * their values are distinct) and keep Parquet's dictionary, its capital-run statistics mostly do not and are written
 * plain, and a categorical column keeps the default however many values it has.
 */
@ExtendWith(SharedSpark.class)
class PlainEncodingTest {
  @Test
  void highCardinalityNumericColumnsAreWrittenPlainAndTheRestKeepTheDictionary(SparkSession spark,
      @TempDir Path dir) throws Exception {
    Dataset<Row> spambase = spark.read().option("header", "true").option("inferSchema", "true")
        .csv("data/spambase.csv")
        .withColumn("row", functions.monotonically_increasing_id().cast("string"))
        // as many distinct values as rows, but text
        .withColumn("note", functions.concat(functions.lit("n"), functions.col("row")));
    List<String> numeric = Arrays.stream(spambase.columns())
        .filter(c -> !List.of("type", "row", "note").contains(c)).toList();
    Profile profile = new Profiler().compute(spambase, new FeatureSchema("type", numeric, List.of("note")), "r1");

    Set<String> plain = PlainEncoding.columns(profile, "row");
    // exact distinct shares of the whole set: 0.470, 0.200 and 0.210; 0.031, 0.009 and 0.008
    assertTrue(plain.containsAll(List.of("capitalAve", "capitalTotal", "charExclamation")), plain.toString());
    assertFalse(plain.contains("make") || plain.contains("num3d") || plain.contains("table"), plain.toString());
    assertFalse(plain.contains("note"), "categorical: Parquet's default");
    assertTrue(plain.contains("row"), "the batch's id column");

    Dataset<Row> rows = spambase.withColumn(Columns.ID, functions.col("row"))
        .withColumn(Columns.RUN_ID, functions.lit("r1")).coalesce(1);
    new VerdictTables(spark, dir.toString()).write(Map.of(Verdict.CLEAN, rows), plain);
    Map<String, Boolean> dictionary = dictionaryPages(dir.resolve(Verdict.CLEAN.table()));
    assertEquals(false, dictionary.get("capitalAve"));
    assertEquals(false, dictionary.get("capitalTotal"));
    assertEquals(true, dictionary.get("make"));
    assertEquals(true, dictionary.get("type"));
    for (String key : List.of("capitalAve", "row", Columns.ID)) {
      assertEquals(null, spark.conf().get("parquet.enable.dictionary#" + key, null),
          "the session's later writes keep Parquet's defaults");
    }
  }

  /** Whether each column's chunk in the table's one data file starts with a dictionary page. */
  static Map<String, Boolean> dictionaryPages(Path table) throws Exception {
    File[] files = table.toFile().listFiles((d, n) -> n.endsWith(".parquet"));
    assertEquals(1, files.length);
    try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(
        new org.apache.hadoop.fs.Path(files[0].toURI()), new Configuration()))) {
      Map<String, Boolean> dictionary = new HashMap<>();
      for (ColumnChunkMetaData column : reader.getFooter().getBlocks().get(0).getColumns()) {
        dictionary.put(column.getPath().toDotString(), column.hasDictionaryPage());
      }
      return dictionary;
    }
  }
}
