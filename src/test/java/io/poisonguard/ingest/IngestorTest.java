package io.poisonguard.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.ConfigException;
import io.poisonguard.config.InputConfig;
import io.poisonguard.spark.BatchStorage;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@ExtendWith(SharedSpark.class)
class IngestorTest {
  @TempDir
  Path dir;

  /** The first {@code n} data lines of the bundled Spambase file, with its header. */
  static List<String> spambaseLines(int n) throws IOException {
    return new ArrayList<>(Files.readAllLines(Path.of("data/spambase.csv")).subList(0, n + 1));
  }

  static InputConfig csv(Path file, String label, String id) {
    return new InputConfig(file.toString(), "csv", label, id, null, null, null, null, null);
  }

  @Test
  void malformedLinesAreRejectedWithTheirLineNumbersAndNothingIsLost(SparkSession spark) throws IOException {
    List<String> lines = spambaseLines(200);
    String good = lines.get(10);
    String[] fields = good.split(",");
    // line numbers are 1-based and count the header as line 1
    Map<Integer, String> malformed = new TreeMap<>();
    malformed.put(20, good.substring(0, good.lastIndexOf(',')));                       // one field short
    malformed.put(50, good.replaceFirst("^[^,]*", "abc"));                              // not a number
    malformed.put(90, "\"" + good);                                                     // quote never closed
    malformed.put(120, good.replaceFirst("^[^,]*", "1\"2"));                            // stray quote
    malformed.put(160, String.join(",", java.util.Arrays.copyOf(fields, fields.length - 1)) + ",");  // empty label
    malformed.forEach((line, text) -> lines.add(line - 1, text));
    Path file = dir.resolve("batch.csv");
    Files.write(file, lines);

    IngestedBatch batch = new Ingestor(spark).read(csv(file, "type", null), "run-1");
    try {
      List<Row> rejected = batch.rejected().orderBy(Columns.LINE).collectAsList();
      assertEquals(new ArrayList<>(malformed.keySet()), rejected.stream().map(r -> (int) r.getLong(4)).toList());
      for (Row r : rejected) {
        assertEquals(malformed.get((int) r.getLong(4)), r.getString(5), "raw text kept");
        assertTrue(r.getString(3).endsWith("batch.csv"));
        assertTrue(!r.getString(6).isBlank());
      }
      assertTrue(rejected.get(1).getString(6).contains("'make'"), rejected.get(1).getString(6));
      assertTrue(rejected.get(4).getString(6).contains("label"), rejected.get(4).getString(6));
      assertEquals(205, batch.records().count(), "every line is a record: 200 good + 5 malformed");
      assertEquals(200, batch.accepted().count());
      assertEquals(200, batch.accepted().select(Columns.ID).distinct().count(), "ids are unique");
      assertEquals(57, batch.features().numericFeatures().size());
      assertEquals("type", batch.features().labelColumn());
    } finally {
      batch.release();
    }
  }

  @Test
  void idsAreStableAcrossReads(SparkSession spark) throws IOException {
    Path file = dir.resolve("stable.csv");
    Files.write(file, spambaseLines(50));
    IngestedBatch first = new Ingestor(spark).read(csv(file, "type", null), "a");
    IngestedBatch second = new Ingestor(spark).read(csv(file, "type", null), "b");
    assertEquals(first.accepted().select(Columns.ID).orderBy(Columns.ID).collectAsList(),
        second.accepted().select(Columns.ID).orderBy(Columns.ID).collectAsList());
    first.release();
    second.release();
  }

  @Test
  void anEmptyFileOfAFolderHoldsNoRecordAndIsPassedOver(SparkSession spark) throws IOException {
    Path folder = Files.createDirectories(dir.resolve("with-empty"));
    Files.write(folder.resolve("a.csv"), new byte[0]);
    Files.write(folder.resolve("b.csv"), spambaseLines(20));
    Files.write(folder.resolve("c.csv"), new byte[0]);
    Files.write(folder.resolve("d.csv"), spambaseLines(10));
    IngestedBatch batch = new Ingestor(spark).read(csv(folder.resolve("*.csv"), "type", null), "r");
    assertEquals(30, batch.accepted().count());
    assertEquals(0, batch.rejected().count());
    batch.release();
  }

  /**
   * Without an id column a record is identified by its file's name, line and text, so two day folders holding a
   * {@code data.csv} with the same line at the same place give two records one id; the second is rejected with an id
   * of its own (Delta's merge refused the second run of such a batch before, exit 1).
   */
  @Test
  void aRecordRepeatedInAFileOfTheSameNameElsewhereIsRejectedOnce(SparkSession spark) throws IOException {
    List<String> lines = spambaseLines(10);
    Path first = Files.createDirectories(dir.resolve("days/2026-12-01")).resolve("data.csv");
    Files.write(first, lines);
    List<String> changed = new ArrayList<>(lines);
    changed.set(5, changed.get(5).replaceFirst("^[^,]*", "7.5"));
    Files.write(Files.createDirectories(dir.resolve("days/2026-12-02")).resolve("data.csv"), changed);
    IngestedBatch batch = new Ingestor(spark).read(csv(dir.resolve("days/*"), "type", null), "r");
    assertEquals(11, batch.accepted().count(), "the first folder's ten records and the changed one");
    List<Row> rejected = batch.rejected().collectAsList();
    assertEquals(9, rejected.size());
    for (Row repeat : rejected) {
      String error = repeat.getString(repeat.fieldIndex(Columns.ERROR));
      assertTrue(error.startsWith("same file name, line and text as line ") && error.contains("2026-12-01/data.csv")
          && error.endsWith("give the files distinct names or set input.id"), error);
    }
    Dataset<Row> all = batch.accepted().select(Columns.ID).union(batch.rejected().select(Columns.ID));
    assertEquals(20, all.distinct().count(), "every record keeps an id of its own");
    batch.release();
  }

  @ParameterizedTest(name = "broadcast threshold {0}")
  @ValueSource(strings = {"10485760", "-1"})
  void repeatedIdsAfterTheFirstAreRejected(String threshold, SparkSession spark) throws IOException {
    List<String> lines = spambaseLines(30);
    List<String> withIds = new ArrayList<>();
    withIds.add("id," + lines.get(0));
    for (int i = 1; i < lines.size(); i++) {
      withIds.add((i == 20 || i == 30 ? 1 : i) + "," + lines.get(i));
    }
    Path file = dir.resolve("ids.csv");
    Files.write(file, withIds);
    String key = "spark.sql.autoBroadcastJoinThreshold";
    String saved = spark.conf().get(key);
    IngestedBatch batch;
    try {
      // -1: broadcasting off, so the repeated ids are joined back with a shuffle and that result is kept instead
      spark.conf().set(key, threshold);
      batch = new Ingestor(spark).read(csv(file, "type", "id"), "run");
    } finally {
      spark.conf().set(key, saved);
    }
    List<Row> rejected = batch.rejected().orderBy(Columns.LINE).collectAsList();
    assertEquals(List.of(21L, 31L), rejected.stream().map(r -> r.getLong(4)).toList());
    for (Row repeat : rejected) {
      assertTrue(repeat.getString(6).contains("duplicate"));
      // an id of its own, so that the verdict tables, keyed on _pg_id, hold each record once and a rerun's merge
      // finds one source row per id; its values are kept as its text, the way a malformed line's text is
      assertEquals(32, repeat.getString(0).length(), "a content id: " + repeat.getString(0));
      assertTrue(repeat.getString(5).contains("\"id\":\"1\""), repeat.getString(5));
      String capitalTotal = withIds.get((int) repeat.getLong(4) - 1).split(",")[withIds.get(0).split(",").length - 2];
      assertTrue(repeat.getString(5).contains("\"capitalTotal\":" + Double.parseDouble(capitalTotal)),
          "the record's values: " + repeat.getString(5));
    }
    assertNotEquals(rejected.get(0).getString(0), rejected.get(1).getString(0));
    assertEquals(28, batch.accepted().count());
    assertEquals(1, batch.accepted().filter(org.apache.spark.sql.functions.col(Columns.ID).equalTo("1")).count());
    assertEquals(BatchStorage.LEVEL, batch.kept().storageLevel(), "the batch is kept");
    batch.release();
    assertEquals(StorageLevel.NONE(), batch.kept().storageLevel(), "release drops it");
  }

  @Test
  void withoutRepeatedIdsTheKeptRecordsAreReadAsTheyAre(SparkSession spark) throws IOException {
    List<String> lines = spambaseLines(30);
    List<String> withIds = new ArrayList<>();
    withIds.add("id," + lines.get(0));
    for (int i = 1; i < lines.size(); i++) {
      withIds.add(i + "," + lines.get(i));
    }
    Path file = dir.resolve("unique.csv");
    Files.write(file, withIds);
    IngestedBatch batch = new Ingestor(spark).read(csv(file, "type", "id"), "run");
    assertTrue(batch.records() == batch.kept(), "no lookup when every id is unique");
    assertEquals(30, batch.accepted().count());
    batch.release();
  }

  @Test
  void jsonLinesAndParquetReadTheSameRecords(SparkSession spark) throws IOException {
    Path file = dir.resolve("small.csv");
    Files.write(file, spambaseLines(40));
    IngestedBatch fromCsv = new Ingestor(spark).read(csv(file, "type", null), "r");
    Path parquet = dir.resolve("small.parquet");
    fromCsv.accepted().drop(Columns.ID, Columns.SOURCE, Columns.RUN_ID).write().parquet(parquet.toString());
    Path json = dir.resolve("small.json");
    List<String> jsonLines = new ArrayList<>(fromCsv.accepted().drop(Columns.ID, Columns.SOURCE, Columns.RUN_ID)
        .toJSON().collectAsList());
    jsonLines.add(3, "{not json");
    Files.write(json, jsonLines);

    IngestedBatch fromParquet = new Ingestor(spark).read(
        new InputConfig(parquet.toString(), "parquet", "type", null, null, null, null, null, null), "r");
    IngestedBatch fromJson = new Ingestor(spark).read(
        new InputConfig(json.toString(), "json", "type", null, null, null, null, null, null), "r");
    assertEquals(40, fromParquet.accepted().count());
    assertEquals(40, fromJson.accepted().count());
    List<Row> jsonRejected = fromJson.rejected().collectAsList();
    assertEquals(1, jsonRejected.size());
    assertEquals(4L, jsonRejected.get(0).getLong(4));
    double csvSum = fromCsv.accepted().agg(org.apache.spark.sql.functions.sum("capitalTotal")).head().getDouble(0);
    assertEquals(csvSum, fromParquet.accepted().agg(org.apache.spark.sql.functions.sum("capitalTotal")).head()
        .getDouble(0), 1e-9);
    assertEquals(csvSum, fromJson.accepted().agg(org.apache.spark.sql.functions.sum("capitalTotal")).head()
        .getDouble(0), 1e-9);
    fromCsv.release();
    fromParquet.release();
    fromJson.release();
  }

  @Test
  void aJsonKeyFirstSeenInALaterFileIsAColumnToo(SparkSession spark) throws IOException {
    Path file = dir.resolve("base.csv");
    Files.write(file, spambaseLines(30));
    IngestedBatch fromCsv = new Ingestor(spark).read(csv(file, "type", null), "r");
    List<String> lines = fromCsv.accepted().drop(Columns.ID, Columns.SOURCE, Columns.RUN_ID).toJSON().collectAsList();
    fromCsv.release();
    Path folder = Files.createDirectories(dir.resolve("feed"));
    Files.write(folder.resolve("part-0.json"), lines.subList(0, 20));
    // the second file's objects carry two keys the first file never has: a number and a text
    Files.write(folder.resolve("part-1.json"), lines.subList(20, 30).stream()
        .map(l -> l.substring(0, l.length() - 1) + ",\"extra\":" + l.length() + ",\"channel\":\"mail\"}").toList());

    IngestedBatch batch = new Ingestor(spark).read(
        new InputConfig(folder + "/*.json", "json", "type", null, null, null, null, null, null), "r");
    assertTrue(batch.features().numericFeatures().contains("extra"), batch.features().toString());
    assertTrue(batch.features().categoricalFeatures().contains("channel"), batch.features().toString());
    assertEquals("make", batch.features().numericFeatures().get(0), "the first file's keys keep their order");
    Row extra = batch.accepted().agg(org.apache.spark.sql.functions.count("extra"),
        org.apache.spark.sql.functions.count("channel"), org.apache.spark.sql.functions.count("make")).head();
    assertEquals(List.of(10L, 10L, 30L), List.of(extra.getLong(0), extra.getLong(1), extra.getLong(2)));
    batch.release();
  }

  /**
   * The same records read as CSV lines and as a Parquet file must be accepted and rejected alike, for the same
   * reasons: a typed input is converted by Spark expressions when its numeric columns hold numbers, else (text to
   * parse) record by record like a text input.
   */
  @ParameterizedTest(name = "numbers stored as text: {0}")
  @ValueSource(booleans = {false, true})
  void typedInputsAreCheckedByTheSameRulesAsText(boolean numbersAsText, SparkSession spark) throws IOException {
    List<String> lines = spambaseLines(60);
    List<String> withIds = new ArrayList<>();
    withIds.add("id," + lines.get(0));
    for (int i = 1; i < lines.size(); i++) {
      withIds.add("r" + i + "," + lines.get(i));
    }
    // line numbers count the header as line 1
    withIds.set(14, withIds.get(14).replaceFirst("^(r14,)[^,]*", "$1"));                       // empty: missing
    withIds.set(20, withIds.get(20).replaceFirst(",[^,]*$", ", "));                            // blank label
    withIds.set(30, withIds.get(30).replaceFirst("^r30,", " ,"));                              // blank id
    List<Long> rejectedLines = new ArrayList<>(List.of(21L, 31L));
    if (numbersAsText) {
      withIds.set(5, withIds.get(5).replaceFirst("^(r5,)[^,]*", "$1abc"));                     // not a number
      withIds.set(9, withIds.get(9).replaceFirst("^(r9,)[^,]*", "$1 inf"));                    // Java's parser says no
      withIds.set(12, withIds.get(12).replaceFirst("^(r12,)[^,]*", "$1 -Infinity "));          // not finite
      withIds.set(16, withIds.get(16).replaceFirst("^(r16,)[^,]*", "$1 1e400"));               // not finite either
      withIds.set(18, withIds.get(18).replaceFirst("^(r18,)[^,]*", "$1" + "2d"));             // Java's, not data's
      withIds.set(40, withIds.get(40).replaceFirst("^(r40,)[^,]*", "$1" + "9".repeat(30) + "x".repeat(20)));
      rejectedLines = List.of(6L, 10L, 13L, 17L, 19L, 21L, 31L, 41L);
    }
    Path file = dir.resolve("mixed.csv");
    Files.write(file, withIds);
    Path parquet = dir.resolve("mixed.parquet");
    spark.read().option("header", "true").option("inferSchema", String.valueOf(!numbersAsText))
        .option("ignoreLeadingWhiteSpace", "false").option("ignoreTrailingWhiteSpace", "false").csv(file.toString())
        .coalesce(1).write().parquet(parquet.toString());
    Map<String, String> schema = new TreeMap<>(Map.of("id", "string", "type", "string"));
    for (String quoted : lines.get(0).split(",")) {
      schema.putIfAbsent(quoted.replace("\"", ""), "double");
    }
    IngestedBatch fromCsv = new Ingestor(spark).read(
        new InputConfig(file.toString(), "csv", "type", "id", null, null, null, schema, null), "r");
    IngestedBatch fromParquet = new Ingestor(spark).read(
        new InputConfig(parquet.toString(), "parquet", "type", "id", null, null, null, schema, null), "r");
    try {
      List<Row> csvRejected = fromCsv.rejected().orderBy(Columns.LINE).collectAsList();
      List<Row> parquetRejected = fromParquet.rejected().orderBy(Columns.LINE).collectAsList();
      assertEquals(rejectedLines, csvRejected.stream().map(r -> r.getLong(4)).toList());
      // the Parquet file's positions are its rows' (0-based + 1), one behind the CSV lines, which count the header
      assertEquals(csvRejected.stream().map(r -> r.getLong(4) - 1).toList(),
          parquetRejected.stream().map(r -> r.getLong(4)).toList());
      assertEquals(csvRejected.stream().map(r -> r.getString(6)).toList(),
          parquetRejected.stream().map(r -> r.getString(6)).toList());
      assertTrue(parquetRejected.get(0).getString(5).startsWith("[r"), "the raw text of a typed record is its values");
      List<Row> csvAccepted = fromCsv.accepted().drop(Columns.SOURCE).orderBy(Columns.ID).collectAsList();
      assertEquals(60 - rejectedLines.size(), csvAccepted.size());
      assertEquals(csvAccepted, fromParquet.accepted().drop(Columns.SOURCE).orderBy(Columns.ID).collectAsList());
      Row r14 = fromParquet.accepted().filter(Columns.col(Columns.ID).equalTo("r14")).head();
      assertTrue(r14.isNullAt(r14.fieldIndex("make")), "an empty value is missing, not malformed");
      if (numbersAsText) {
        assertEquals("column 'make': '" + "9".repeat(30) + "xxxxxxx...' is not a number",
            csvRejected.get(7).getString(6));
        assertEquals("column 'make': '-Infinity' is not a finite number; write a finite value, or leave the field "
            + "empty for a missing one", csvRejected.get(2).getString(6));
        assertEquals("column 'make': '2d' is not a number", csvRejected.get(4).getString(6));
      }
    } finally {
      fromCsv.release();
      fromParquet.release();
    }
  }

  @Test
  void infiniteNumbersOfATypedInputAreRejectedAndNaNIsMissing(SparkSession spark) {
    StructType schema = new StructType().add("x", DataTypes.DoubleType).add("y", DataTypes.DoubleType)
        .add("label", DataTypes.StringType);
    List<Row> rows = List.of(RowFactory.create(1.0, 2.0, "a"), RowFactory.create(Double.POSITIVE_INFINITY, 2.0, "b"),
        RowFactory.create(3.0, Double.NEGATIVE_INFINITY, "a"), RowFactory.create(Double.NaN, 4.0, "b"));
    Path parquet = dir.resolve("typed.parquet");
    spark.createDataFrame(rows, schema).coalesce(1).write().parquet(parquet.toString());
    IngestedBatch batch = new Ingestor(spark).read(
        new InputConfig(parquet.toString(), "parquet", "label", null, null, null, null, null, null), "r");
    try {
      List<String> errors = batch.rejected().orderBy(Columns.LINE).collectAsList().stream()
          .map(r -> r.getString(6)).toList();
      assertEquals(List.of("column 'x': 'Infinity' is not a finite number; write a finite value, or leave the field "
          + "empty for a missing one", "column 'y': '-Infinity' is not a finite number; write a finite value, or "
          + "leave the field empty for a missing one"), errors);
      assertEquals(2, batch.accepted().count(), "the finite row and the NaN (missing) one");
    } finally {
      batch.release();
    }
  }

  @Test
  void columnProblemsNameTheKeyAndColumn(SparkSession spark) throws IOException {
    Path file = dir.resolve("cols.csv");
    Files.write(file, spambaseLines(20));
    ConfigException noLabel = assertThrows(ConfigException.class,
        () -> new Ingestor(spark).read(csv(file, "kind", null), "r"));
    assertTrue(noLabel.getMessage().startsWith("input.label: column 'kind' is not in"), noLabel.getMessage());
    ConfigException badType = assertThrows(ConfigException.class, () -> new Ingestor(spark).read(
        new InputConfig(file.toString(), "csv", "type", null, null, null, null, Map.of("make", "timestamp"), null),
        "r"));
    assertTrue(badType.getMessage().startsWith("input.schema.make: column 'make' has type timestamp"),
        badType.getMessage());
    ConfigException missing = assertThrows(ConfigException.class,
        () -> new Ingestor(spark).read(csv(dir.resolve("absent.csv"), "type", null), "r"));
    assertTrue(missing.getMessage().contains("absent.csv"), missing.getMessage());
  }
}
