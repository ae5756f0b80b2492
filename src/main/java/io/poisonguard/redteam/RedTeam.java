package io.poisonguard.redteam;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.poisonguard.ingest.IngestedBatch;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SingleCsvWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * Runs one attack on an ingested batch and writes what a benchmark needs, with the ground truth kept apart:
 * {@code data.csv} (the input's columns, an {@code id} column added when the input has none, poisoned rows
 * shuffled in by a seeded order), {@code truth.csv} ({@code id,poisoned,attack}) and {@code attack.json}.
 */
public final class RedTeam {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private RedTeam() {}

  /**
   * Attacks {@code batch} and writes the three files under {@code out}. {@code idColumn} names the input's id
   * column, or is null (then {@code id} is the record's stable {@code _pg_id}). Returns what attack.json holds.
   */
  public static Map<String, Object> run(IngestedBatch batch, String idColumn, AttackSpec spec, Path out)
      throws IOException {
    Files.createDirectories(out);
    List<String> inputColumns = new ArrayList<>();
    for (String c : batch.accepted().columns()) {
      if (!c.startsWith(Columns.PREFIX) && !c.equals(idColumn)) {
        inputColumns.add(c);
      }
    }
    Dataset<Row> rows = batch.accepted().withColumn("id", Columns.col(idColumn == null ? Columns.ID : idColumn))
        .select(columns("id", inputColumns));
    AttackContext context = AttackContext.of(rows, batch.features(), spec);
    Dataset<Row> attacked = Attacks.get(spec.attack()).apply(context)
        .orderBy(context.order("shuffle"), functions.col("id"))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<String> outColumns = new ArrayList<>(inputColumns);
      if (List.of(attacked.columns()).contains("source") && !inputColumns.contains("source")) {
        outColumns.add("source");
      }
      SingleCsvWriter.write(attacked.select(columns("id", outColumns)), out.resolve("data.csv").toString());
      SingleCsvWriter.write(attacked.select(functions.col("id"), Columns.col(Attack.POISONED).as("poisoned"),
          functions.when(Columns.col(Attack.POISONED), functions.lit(spec.attack())).otherwise(functions.lit(""))
              .as("attack")), out.resolve("truth.csv").toString());
      Row counts = attacked.agg(functions.count(functions.lit(1)),
          functions.sum(functions.when(Columns.col(Attack.POISONED), 1L).otherwise(0L))).head();
      Map<String, Object> record = new LinkedHashMap<>();
      record.put("attack", spec.attack());
      record.put("rate", spec.rate());
      record.put("seed", spec.seed());
      record.put("options", spec.options());
      record.put("label", batch.features().labelColumn());
      record.put("classes", context.classes());
      record.put("input_rows", context.size());
      record.put("output_rows", counts.getLong(0));
      record.put("poisoned_rows", counts.getLong(1));
      record.put("poisoned_share", counts.getLong(1) / (double) counts.getLong(0));
      if (spec.attack().equals("backdoor")) {
        record.put("trigger", Backdoor.trigger(context));
      }
      JSON.writeValue(out.resolve("attack.json").toFile(), record);
      return record;
    } finally {
      attacked.unpersist();
    }
  }

  private static Column[] columns(String first, List<String> rest) {
    List<Column> cols = new ArrayList<>();
    cols.add(Columns.col(first));
    rest.forEach(c -> cols.add(Columns.col(c)));
    return cols.toArray(Column[]::new);
  }
}
