package io.poisonguard.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.poisonguard.detect.SourceFinding;
import io.poisonguard.detect.SourceScreen;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The detection metrics of a run, from its flagged rows and the source screen's counts, with known answers. */
@ExtendWith(SharedSpark.class)
class RunMetricsTest {
  private static final StructType FLAGGED = new StructType().add(Columns.SOURCE, DataTypes.StringType)
      .add(Columns.REASONS, DataTypes.createArrayType(DataTypes.StringType));

  /** A whole-source finding of another provenance test (as the influence test makes with a trusted sample). */
  private record WholeSource(String source, boolean flagged, String reason) implements SourceFinding {}

  @Test
  void sourcesFlaggedAsAWholeCountAllTheirRowsAndTheOthersTheirOwnFlags(SparkSession spark) {
    // feed "a": 100 rows, 3 flagged on their own; "b": 50 rows, 10 of their own, flagged whole by the screen;
    // "c": 10 rows, 1 of its own, flagged whole by another finding; rows without a source: 20, none flagged
    List<SourceScreen.Verdict> screened = List.of(
        new SourceScreen.Verdict("a", 100, 5, 3, 0.1, 1.0, false),
        new SourceScreen.Verdict("b", 50, 30, 10, 0.02, 1e-9, true),
        new SourceScreen.Verdict("c", 10, 1, 1, 0.2, 1.0, false),
        new SourceScreen.Verdict(null, 20, 0, 0, 0.2, 1.0, false));
    List<SourceFinding> findings = new ArrayList<>(screened);
    findings.add(new WholeSource("c", true, "source_influence:feed=c"));
    List<Row> flagged = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      flagged.add(RowFactory.create("a", new String[] {"knn_label:p=0.001", "robust_z:p=0.002"}));
    }
    for (int i = 0; i < 50; i++) {
      flagged.add(RowFactory.create("b", new String[] {"source:feed=b"}));
    }
    for (int i = 0; i < 10; i++) {
      flagged.add(RowFactory.create("c", new String[] {"source_influence:feed=c"}));
    }
    Dataset<Row> flaggedRows = spark.createDataFrame(flagged, FLAGGED);

    RunMetrics metrics = new RunMetrics("r1", "p").detection(flaggedRows, screened, findings);

    assertEquals(Map.of("source", 50L, "source_influence", 10L, "knn_label", 3L, "robust_z", 3L),
        metrics.reasonCounts(10));
    List<String> sourceRows = new ArrayList<>();
    for (Row r : metrics.toRows(spark).collectAsList()) {
      if (r.getString(2).equals("source") && !r.getString(4).equals("flagged_as_whole")) {
        sourceRows.add(r.getString(3) + " " + r.getString(4) + " " + r.getDouble(5));
      }
    }
    // highest flagged share first, the larger source first among equal shares
    assertEquals(List.of("b rows 50.0", "b flagged 50.0", "b flagged_share 1.0",
        "c rows 10.0", "c flagged 10.0", "c flagged_share 1.0",
        "a rows 100.0", "a flagged 3.0", "a flagged_share 0.03",
        "null rows 20.0", "null flagged 0.0", "null flagged_share 0.0"), sourceRows);
  }
}
