package io.poisonguard.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.poisonguard.config.ConfigException;
import io.poisonguard.config.InputConfig;
import io.poisonguard.spark.BatchStorage;
import io.poisonguard.spark.BroadcastLookup;
import io.poisonguard.spark.Columns;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import scala.Tuple2;

/**
 * Reads a batch (CSV, JSON lines, Parquet or Delta) into typed records. Nothing is dropped: a record that cannot
 * be read keeps its raw text, file, position and error, and goes to {@code rejected} downstream. Text formats are
 * read line by line so every rejected record carries its line number.
 */
public final class Ingestor {
  /** Lines sampled from the first file to guess column types when the pipeline declares none. */
  private static final int INFERENCE_SAMPLE = 1000;
  /** Share of sampled values that must parse as numbers for a column to be read as numeric. */
  private static final double NUMERIC_SHARE = 0.95;
  /** Most columns a JSON-lines batch may have: every distinct key is one. */
  private static final int MAX_JSON_KEYS = 10_000;
  /** Size of a repeated id with its first position (an id and a file path of some tens of bytes each). */
  private static final long BYTES_PER_REPEAT = 256;
  /** Size of a repeated id hash (a long as a row, and again in the broadcast hash relation). */
  private static final long BYTES_PER_HASH = 48;
  private static final String ID_HASH = "__id_hash";

  private final SparkSession spark;

  /** An ingestor on the given session. */
  public Ingestor(SparkSession spark) {
    this.spark = spark;
  }

  /** Reads the input described by {@code input}, stamping every record with {@code runId}. */
  public IngestedBatch read(InputConfig input, String runId) {
    Parsed parsed = switch (input.format()) {
      case "csv" -> readCsv(input, runId);
      case "json" -> readJsonLines(input, runId);
      default -> readTyped(input, runId);
    };
    Dataset<Row> typed = parsed.records().persist(BatchStorage.LEVEL);
    if (typed.isEmpty()) {
      typed.unpersist();
      throw new ConfigException("input.path: " + input.path() + " holds no records; check the path");
    }
    if (input.id() == null && !sharesAFileName(parsed.inputs())) {
      // content ids hash the file name, the line and the text: only files of one name can repeat one
      return new IngestedBatch(typed, parsed.features(), parsed.inputs(), typed);
    }
    // Ids are first counted by a 64-bit hash: a long per record through the shuffle, where grouping by the id itself
    // also carries its first position (a file path) per distinct id. Only the records under a repeated hash, none
    // in a batch of unique ids, are then grouped by id; when too many hashes repeat to broadcast, every record is.
    Optional<Dataset<Row>> fewHashes = BroadcastLookup.collectIfSmall(repeatedHashes(typed), BYTES_PER_HASH);
    if (fewHashes.isPresent() && fewHashes.get().isEmpty()) {
      return new IngestedBatch(typed, parsed.features(), parsed.inputs(), typed);
    }
    Dataset<Row> candidates = fewHashes.map(hashes -> typed.join(functions.broadcast(hashes),
        idHash().equalTo(functions.col(ID_HASH)), "left_semi")).orElse(typed);
    Dataset<Row> repeats = repeatedIds(candidates);
    // Repeated ids are brought to the driver only up to the broadcast threshold's worth (BroadcastLookup).
    Optional<Dataset<Row>> few = BroadcastLookup.collectIfSmall(repeats, BYTES_PER_REPEAT);
    if (few.isPresent() && few.get().isEmpty()) {
      return new IngestedBatch(typed, parsed.features(), parsed.inputs(), typed);
    }
    if (few.isPresent()) {
      Dataset<Row> records = rejectRepeats(typed, functions.broadcast(few.get()), input.id());
      return new IngestedBatch(records, parsed.features(), parsed.inputs(), typed);
    }
    // Too many repeated ids to broadcast: join them back with a shuffle, once, and keep the result instead.
    Dataset<Row> records = rejectRepeats(typed, repeats, input.id()).persist(BatchStorage.LEVEL);
    records.count();
    typed.unpersist();
    return new IngestedBatch(records, parsed.features(), parsed.inputs(), records);
  }

  /** Whether two of the files read have the same name (in different folders). */
  private static boolean sharesAFileName(List<InputVersion> inputs) {
    Set<String> names = new HashSet<>();
    return inputs.stream().anyMatch(in -> in.deltaVersion() < 0 && !names.add(RecordLayout.fileName(in.path())));
  }

  /** A batch as parsed, before it is kept and its ids checked. */
  private record Parsed(Dataset<Row> records, FeatureSchema features, List<InputVersion> inputs) {}

  private Parsed readCsv(InputConfig input, String runId) {
    List<FileStatus> files = listFiles(input.path());
    char delimiter = input.options().getOrDefault("delimiter", ",").charAt(0);
    CsvLineParser parser = new CsvLineParser(delimiter);
    // the header and the sample come from the first file that has a line
    String first = null;
    List<String> sample = List.of();
    for (FileStatus status : files) {
      first = status.getPath().toString();
      sample = jsc().textFile(first, 1).take(INFERENCE_SAMPLE + 1);
      if (!sample.isEmpty()) {
        break;
      }
    }
    if (sample.isEmpty()) {
      throw new ConfigException("input.path: " + (files.size() == 1 ? first + " is empty" : input.path()
          + " holds only empty files") + "; a CSV batch needs a header line");
    }
    List<String> header = parseHeader(parser, sample.get(0), first);
    Map<String, String> detected = new LinkedHashMap<>();
    for (int c = 0; c < header.size(); c++) {
      List<String> values = new ArrayList<>();
      for (String line : sample.subList(1, sample.size())) {
        try {
          List<String> fields = parser.parse(line);
          if (fields.size() == header.size()) {
            values.add(fields.get(c));
          }
        } catch (MalformedRecordException ignored) {
          // a malformed sample line says nothing about column types; it is rejected when the batch is read
        }
      }
      detected.put(header.get(c), looksNumeric(values) ? "numeric" : "string");
    }
    ColumnResolver.Resolved resolved = ColumnResolver.resolve(input, first, header, detected);
    RecordLayout layout = new RecordLayout(resolved.names(), resolved.kinds(), input.label(), input.id(),
        input.source(), runId);
    JavaRDD<Row> rows = null;
    for (FileStatus status : files) {
      String file = status.getPath().toString();
      JavaRDD<Tuple2<String, Long>> lines = jsc().textFile(file).zipWithIndex().rdd().toJavaRDD();
      List<Tuple2<String, Long>> fileHeader = lines.take(1);
      if (fileHeader.isEmpty()) {
        // an empty file (no header, no line) holds no record: nothing to read, nothing to account for
        continue;
      }
      if (!parseHeader(parser, fileHeader.get(0)._1(), file).equals(header)) {
        throw new ConfigException("input.path: " + file + " has a different header than " + first
            + "; every file of a batch must have the same columns");
      }
      JavaRDD<Row> fileRows = lines
          .filter(t -> t._2() > 0 && !t._1().isBlank())
          .map(t -> parseCsvLine(parser, layout, file, t._2() + 1, t._1()));
      rows = rows == null ? fileRows : rows.union(fileRows);
    }
    return new Parsed(spark.createDataFrame(rows, layout.schema()), resolved.features(), versions(files, "csv"));
  }

  private static Row parseCsvLine(CsvLineParser parser, RecordLayout layout, String file, long line, String text) {
    try {
      return layout.convert(file, line, () -> text, parser.parse(text), null);
    } catch (MalformedRecordException e) {
      return layout.convert(file, line, () -> text, null, e.getMessage());
    }
  }

  private static List<String> parseHeader(CsvLineParser parser, String line, String file) {
    try {
      List<String> header = parser.parse(line.startsWith("\uFEFF") ? line.substring(1) : line);
      Set<String> seen = new LinkedHashSet<>();
      for (String h : header) {
        if (h.isBlank() || !seen.add(h)) {
          throw new ConfigException("input.path: " + file + " header has an empty or repeated column name '" + h
              + "'; give every column a unique name");
        }
        if (h.startsWith(Columns.PREFIX)) {
          throw new ConfigException("input.path: " + file + " column '" + h + "' uses the reserved prefix "
              + Columns.PREFIX + "; rename it");
        }
      }
      return header;
    } catch (MalformedRecordException e) {
      throw new ConfigException("input.path: " + file + " header line cannot be read (" + e.getMessage() + ")");
    }
  }

  private static boolean looksNumeric(List<String> values) {
    int present = 0;
    int numeric = 0;
    for (String v : values) {
      String s = v.trim();
      if (s.isEmpty()) {
        continue;
      }
      present++;
      numeric += parsesAsNumber(s) ? 1 : 0;
    }
    return present > 0 && numeric >= NUMERIC_SHARE * present;
  }

  private Parsed readJsonLines(InputConfig input, String runId) {
    List<FileStatus> files = listFiles(input.path());
    String first = files.get(0).getPath().toString();
    Map<String, String> detected = jsonColumns(files);
    if (detected.isEmpty()) {
      throw new ConfigException("input.path: " + input.path() + " has no JSON object with a key; "
          + "format json expects one object per line");
    }
    List<String> names = new ArrayList<>(detected.keySet());
    ColumnResolver.Resolved resolved = ColumnResolver.resolve(input, first, names, detected);
    RecordLayout layout = new RecordLayout(resolved.names(), resolved.kinds(), input.label(), input.id(),
        input.source(), runId);
    JavaRDD<Row> rows = null;
    for (FileStatus status : files) {
      String file = status.getPath().toString();
      JavaRDD<Row> fileRows = jsc().textFile(file).zipWithIndex().rdd().toJavaRDD()
          .filter(t -> !t._1().isBlank())
          .mapPartitions(it -> parseJsonLines(layout, file, it));
      rows = rows == null ? fileRows : rows.union(fileRows);
    }
    return new Parsed(spark.createDataFrame(rows, layout.schema()), resolved.features(),
        versions(files, "json"));
  }

  /**
   * The columns of a JSON-lines batch: every key any object of any file has, so that a key first seen deep in the
   * batch is read like the others, with its kind ("numeric" when at least {@value #NUMERIC_SHARE} of its present
   * values parse as numbers). One pass over the batch brings a count per key and partition to the driver. Keys in
   * order of their first line in a sample of the first file, then the others by name.
   */
  private Map<String, String> jsonColumns(List<FileStatus> files) {
    JavaRDD<String> lines = null;
    for (FileStatus status : files) {
      JavaRDD<String> fileLines = jsc().textFile(status.getPath().toString());
      lines = lines == null ? fileLines : lines.union(fileLines);
    }
    Map<String, long[]> counts = new java.util.TreeMap<>();
    lines.mapPartitions((org.apache.spark.api.java.function.FlatMapFunction<Iterator<String>,
        Tuple2<String, long[]>>) it -> {
          ObjectMapper mapper = new ObjectMapper();
          Map<String, long[]> partial = new LinkedHashMap<>();
          while (it.hasNext()) {
            String line = it.next();
            JsonNode node;
            try {
              node = line.isBlank() ? null : mapper.readTree(line);
            } catch (IOException malformed) {
              // rejected when the batch is read; it says nothing about the columns
              continue;
            }
            if (node == null || !node.isObject()) {
              continue;
            }
            node.fields().forEachRemaining(e -> {
              long[] c = partial.computeIfAbsent(e.getKey(), k -> new long[2]);
              String text = e.getValue().isNull() ? "" : e.getValue().asText().trim();
              if (!text.isEmpty()) {
                c[0]++;
                c[1] += parsesAsNumber(text) ? 1 : 0;
              }
            });
          }
          List<Tuple2<String, long[]>> out = new ArrayList<>();
          partial.forEach((k, c) -> out.add(new Tuple2<>(k, c)));
          return out.iterator();
        }).collect().forEach(t -> {
          long[] c = counts.computeIfAbsent(t._1(), k -> new long[2]);
          c[0] += t._2()[0];
          c[1] += t._2()[1];
        });
    Set<String> ordered = new LinkedHashSet<>();
    ObjectMapper mapper = new ObjectMapper();
    for (String line : jsc().textFile(files.get(0).getPath().toString(), 1).take(INFERENCE_SAMPLE)) {
      try {
        JsonNode node = mapper.readTree(line);
        if (node != null && node.isObject()) {
          node.fieldNames().forEachRemaining(ordered::add);
        }
      } catch (IOException malformed) {
        // as above
      }
    }
    if (counts.size() > MAX_JSON_KEYS) {
      throw new ConfigException("input.path: the batch's JSON objects have " + counts.size() + " distinct keys, more "
          + "than the " + MAX_JSON_KEYS + " columns a batch may have; nest keys that name records (ids, dates) "
          + "under one field");
    }
    ordered.addAll(counts.keySet());
    Map<String, String> kinds = new LinkedHashMap<>();
    for (String key : ordered) {
      long[] c = counts.get(key);
      kinds.put(key, c[0] > 0 && c[1] >= NUMERIC_SHARE * c[0] ? "numeric" : "string");
    }
    return kinds;
  }

  private static boolean parsesAsNumber(String text) {
    return RecordLayout.parseNumber(text) != null;
  }

  /**
   * The feature schema of a table PoisonGuard wrote (clean, staged, quarantine): the pipeline's input settings
   * resolved against the table's own columns, leaving out the columns PoisonGuard added.
   */
  public static FeatureSchema schemaOfTable(InputConfig input, Dataset<Row> table, String origin) {
    Map<String, String> detected = new LinkedHashMap<>();
    List<String> names = new ArrayList<>();
    for (StructField f : table.schema().fields()) {
      if (!f.name().startsWith(Columns.PREFIX)) {
        names.add(f.name());
        detected.put(f.name(), f.dataType() instanceof NumericType ? "numeric" : f.dataType().typeName());
      }
    }
    return ColumnResolver.resolve(input, origin, names, detected).features();
  }

  private static Iterator<Row> parseJsonLines(RecordLayout layout, String file, Iterator<Tuple2<String, Long>> it) {
    ObjectMapper mapper = new ObjectMapper();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return it.hasNext();
      }

      @Override
      public Row next() {
        Tuple2<String, Long> t = it.next();
        long line = t._2() + 1;
        JsonNode node;
        try {
          node = mapper.readTree(t._1());
        } catch (IOException e) {
          return layout.convert(file, line, t::_1, null, "not valid JSON: " + firstLine(e));
        }
        if (node == null || !node.isObject()) {
          return layout.convert(file, line, t::_1, null, "expected a JSON object");
        }
        List<Object> values = new ArrayList<>();
        for (String name : layout.names()) {
          JsonNode v = node.get(name);
          values.add(v == null || v.isNull() ? null : v.isNumber() ? v.numberValue() : v.isValueNode() ? v.asText()
              : v.toString());
        }
        return layout.convert(file, line, t::_1, values, null);
      }
    };
  }

  private Parsed readTyped(InputConfig input, String runId) {
    List<InputVersion> versions;
    Dataset<Row> frame;
    try {
      if (input.format().equals("delta")) {
        long version = io.delta.tables.DeltaTable.forPath(spark, input.path()).history(1)
            .select("version").head().getLong(0);
        frame = spark.read().format("delta").option("versionAsOf", version).load(input.path());
        versions = List.of(new InputVersion(input.path(), "delta", version, -1, -1));
      } else {
        List<FileStatus> files = listFiles(input.path());
        frame = spark.read().format(input.format()).load(input.path());
        versions = versions(files, input.format());
      }
    } catch (ConfigException e) {
      throw e;
    } catch (Exception e) {
      throw new ConfigException("input.path: cannot read " + input.path() + " as " + input.format() + " ("
          + firstLine(e) + ")");
    }
    Map<String, String> detected = new LinkedHashMap<>();
    for (StructField f : frame.schema().fields()) {
      DataType t = f.dataType();
      detected.put(f.name(), t instanceof NumericType ? "numeric" : t.typeName());
      if (f.name().startsWith(Columns.PREFIX)) {
        throw new ConfigException("input.path: " + input.path() + " column '" + f.name()
            + "' uses the reserved prefix " + Columns.PREFIX + "; rename it");
      }
    }
    List<String> names = Arrays.asList(frame.columns());
    ColumnResolver.Resolved resolved = ColumnResolver.resolve(input, input.path(), names, detected);
    RecordLayout layout = new RecordLayout(resolved.names(), resolved.kinds(), input.label(), input.id(),
        input.source(), runId);
    // the position within the file keeps content-hash ids unique when identical rows repeat
    Dataset<Row> located = frame.select(functions.col("*"), functions.col("_metadata.file_path").as("__file"),
        functions.col("_metadata.row_index").as("__row"));
    int width = names.size();
    if (!layout.convertsByExpression(frame.schema())) {
      // text in a numeric column: parsed record by record, as the text formats are
      JavaRDD<Row> rows = located.javaRDD().map(r -> {
        List<Object> values = new ArrayList<>(width);
        for (int i = 0; i < width; i++) {
          values.add(r.get(i));
        }
        return layout.convert(r.getString(width), r.getLong(width + 1) + 1, values::toString, values, null);
      });
      return new Parsed(spark.createDataFrame(rows, layout.schema()), resolved.features(), versions);
    }
    // A record's text, as convert is given it: its values as a list prints them. Only rejected records and content
    // ids need it.
    Column raw = functions.udf((UDF1<Row, String>) Ingestor::listText, DataTypes.StringType)
        .apply(functions.struct(names.stream().map(Columns::col).toArray(Column[]::new)));
    Column[] typed = layout.convertColumns(frame.schema(), functions.col("__file"),
        functions.col("__row").plus(1), raw);
    return new Parsed(located.select(typed), resolved.features(), versions);
  }

  /** A record's values as a list prints them: {@code [v1, v2, ...]}. */
  private static String listText(Row values) {
    List<Object> list = new ArrayList<>(values.length());
    for (int i = 0; i < values.length(); i++) {
      list.add(values.get(i));
    }
    return list.toString();
  }

  /** A record's id hashed to 64 bits: equal ids hash alike, and distinct ones rarely do. */
  private static Column idHash() {
    return functions.xxhash64(Columns.col(Columns.ID));
  }

  /**
   * The id hashes that more than one readable record carries: a superset of the repeated ids' hashes, since
   * distinct ids may share a hash.
   */
  private static Dataset<Row> repeatedHashes(Dataset<Row> records) {
    return records.filter(Columns.col(Columns.ERROR).isNull())
        .groupBy(idHash().as(ID_HASH))
        .agg(functions.count(functions.lit(1)).as("__n"))
        .filter(functions.col("__n").gt(1))
        .select(ID_HASH);
  }

  /**
   * The ids that more than one readable record carries, with the position (file, line) of the first: an
   * aggregation that moves only ids and positions.
   */
  private static Dataset<Row> repeatedIds(Dataset<Row> records) {
    return records.filter(Columns.col(Columns.ERROR).isNull())
        .groupBy(Columns.ID)
        .agg(functions.count(functions.lit(1)).as("__n"),
            functions.min(functions.struct(Columns.col(Columns.FILE), Columns.col(Columns.LINE))).as("__first"))
        .filter(functions.col("__n").gt(1))
        .select(Columns.col(Columns.ID), functions.col("__first").getField(Columns.FILE).as("__first_file"),
            functions.col("__first").getField(Columns.LINE).as("__first_line"));
  }

  /**
   * Keeps the first record of each repeated id and rejects the others, so ids stay unique across the verdict
   * tables too: a rejected repeat gets an id from its file's full path, its line and its values, which become its raw
   * text (the rejected table keeps the text, not the typed columns). Without an id column, a repeat is a record with
   * the same file name, line and text as one in another folder: the content id cannot tell them apart.
   */
  private static Dataset<Row> rejectRepeats(Dataset<Row> records, Dataset<Row> repeats, String idColumn) {
    Column repeated = Columns.col(Columns.ERROR).isNull().and(functions.col("__first_file").isNotNull())
        .and(functions.not(Columns.col(Columns.FILE).equalTo(functions.col("__first_file"))
            .and(Columns.col(Columns.LINE).equalTo(functions.col("__first_line")))));
    Column values = functions.to_json(functions.struct(java.util.Arrays.stream(records.columns())
        .filter(c -> !c.startsWith(Columns.PREFIX)).map(Columns::col).toArray(Column[]::new)));
    Dataset<Row> joined = records.join(repeats, scala.jdk.javaapi.CollectionConverters.asScala(
        List.of(Columns.ID)).toSeq(), "left");
    Column repeat = functions.col("__repeat");
    return joined.withColumn("__repeat", repeated)
        .withColumn(Columns.RAW, functions.when(repeat, values).otherwise(Columns.col(Columns.RAW)))
        .withColumn(Columns.ID, functions.when(repeat, RecordLayout.pathId(Columns.col(Columns.FILE),
            Columns.col(Columns.LINE), Columns.col(Columns.RAW))).otherwise(Columns.col(Columns.ID)))
        .withColumn(Columns.ERROR, functions.when(repeat, idColumn != null
            ? functions.lit("duplicate value of id column '" + idColumn + "'")
            : functions.concat(functions.lit("same file name, line and text as line "),
                functions.col("__first_line").cast(DataTypes.StringType), functions.lit(" of "),
                functions.col("__first_file"), functions.lit(", so the same record id; give the files distinct names "
                    + "or set input.id"))).otherwise(Columns.col(Columns.ERROR)))
        .drop("__first_file", "__first_line", "__repeat")
        .select(java.util.Arrays.stream(records.columns()).map(Columns::col).toArray(Column[]::new));
  }

  private List<FileStatus> listFiles(String path) {
    try {
      Configuration conf = spark.sparkContext().hadoopConfiguration();
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      FileStatus[] matched = fs.globStatus(p);
      List<FileStatus> files = new ArrayList<>();
      if (matched != null) {
        for (FileStatus s : matched) {
          if (s.isDirectory()) {
            for (FileStatus child : fs.listStatus(s.getPath())) {
              String name = child.getPath().getName();
              if (child.isFile() && !name.startsWith("_") && !name.startsWith(".")) {
                files.add(child);
              }
            }
          } else {
            files.add(s);
          }
        }
      }
      if (files.isEmpty()) {
        throw new ConfigException("input.path: nothing to read at " + path + "; check the path (--set input.path=...)");
      }
      files.sort((a, b) -> a.getPath().toString().compareTo(b.getPath().toString()));
      return files;
    } catch (IOException e) {
      throw new ConfigException("input.path: cannot list " + path + " (" + firstLine(e) + ")");
    }
  }

  private static List<InputVersion> versions(List<FileStatus> files, String format) {
    return files.stream().map(f -> new InputVersion(f.getPath().toString(), format, -1, f.getLen(),
        f.getModificationTime())).toList();
  }

  private JavaSparkContext jsc() {
    return JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  private static String firstLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
