package io.poisonguard.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Keyed-hash redaction: the same token in Spark and on the driver, and no value left in the reasons. */
@ExtendWith(SharedSpark.class)
class RedactorTest {
  private static final byte[] KEY = "a secret key".getBytes(StandardCharsets.UTF_8);

  private static Redactor labelAndSource() {
    return new Redactor(KEY, List.of("type", "feed"), "type", "feed", null);
  }

  @Test
  void tokenIsHmacSha256AndSparkComputesTheSameOne(SparkSession spark) throws Exception {
    Redactor r = labelAndSource();
    // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?")
    Redactor jefe = new Redactor("Jefe".getBytes(StandardCharsets.UTF_8), List.of("x"), null, null, null);
    assertEquals(Redactor.PREFIX + "5bdcc146bf60754e", jefe.token("what do ya want for nothing?"));

    List<String> values = Files.readAllLines(Path.of("data/spambase.csv")).stream().skip(1).limit(200)
        .map(l -> l.substring(l.lastIndexOf(',') + 1) + "|" + l.substring(0, 12)).toList();
    Dataset<Row> df = spark.createDataset(values, org.apache.spark.sql.Encoders.STRING()).toDF("v");
    List<Row> tokens = df.select(functions.col("v"), r.token(functions.col("v"))).collectAsList();
    for (Row t : tokens) {
      assertEquals(r.token(t.getString(0)), t.getString(1), t.getString(0));
    }
    assertNotEquals(r.token("spam"), new Redactor("other".getBytes(StandardCharsets.UTF_8), List.of("type"), "type",
        null, null).token("spam"), "the key matters");
  }

  @Test
  void reasonsLoseTheLabelAndSourceValuesTheyQuote(SparkSession spark) {
    Redactor r = labelAndSource();
    String label = "label_consistency:given=spam,predicted=nonspam,p=0.97";
    String source = "source:feed=partner-b,suspect_share=0.310,others=0.040";
    String gate = "label shift of class 'spam' (share moved 12.00%) exceeds gate.max_label_share_change=0.1";
    String expectedLabel = "label_consistency:given=" + r.token("spam") + ",predicted=" + r.token("nonspam")
        + ",p=0.97";
    assertEquals(expectedLabel, r.reason(label));
    assertEquals("source:feed=" + r.token("partner-b") + ",suspect_share=0.310,others=0.040", r.reason(source));
    assertFalse(r.reason(gate).contains("spam"), r.reason(gate));
    assertEquals("robust_z:feature=capitalTotal,z=12.0", r.reason("robust_z:feature=capitalTotal,z=12.0"));

    Dataset<Row> df = spark.sql("select array('" + label + "', '" + source + "', 'duplicates:group=3') as "
        + Columns.REASONS);
    List<String> redacted = df.select(r.reasons(functions.col(Columns.REASONS))).first().getList(0);
    assertEquals(List.of(expectedLabel, r.reason(source), "duplicates:group=3"), redacted);

    Redactor featuresOnly = new Redactor(KEY, List.of("capitalTotal"), "type", "feed", null);
    assertEquals(label, featuresOnly.reason(label), "a feature's redaction leaves the label alone");
    assertTrue(featuresOnly.redacts("capitalTotal") && !featuresOnly.redacts(Columns.SOURCE));
    assertTrue(r.redacts(Columns.SOURCE), "the source column's values are also in _pg_source");
    assertFalse(Redactor.none().active());
  }
}
