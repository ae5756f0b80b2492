package io.poisonguard.profile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag$;

/**
 * Partial summaries travel between tasks and the driver under whichever serializer Spark is set to: after a round
 * trip through Java or Kryo serialization they merge, keep counting and answer as the originals do.
 */
class ColumnSummariesTest {
  /**
   * 20,000 rows: a numeric column with 5,000 distinct values, a categorical one with 300, and a label of two values
   * that is null on every tenth row.
   */
  private static ColumnSummaries part(int from) {
    ColumnSummaries summaries = new ColumnSummaries(1, 1);
    for (int i = from; i < from + 20_000; i++) {
      summaries.add(RowFactory.create((double) (i % 5_000), "c" + (i % 300), i % 10 == 0 ? null : "l" + (i % 2)));
    }
    return summaries;
  }

  private static ColumnSummaries roundTrip(SerializerInstance serializer, ColumnSummaries summaries) {
    return serializer.deserialize(serializer.serialize(summaries, ClassTag$.MODULE$.apply(ColumnSummaries.class)),
        ClassTag$.MODULE$.apply(ColumnSummaries.class));
  }

  @Test
  void summariesSurviveJavaAndKryoSerialization() {
    ColumnSummaries expected = part(0).merge(part(20_000));
    expected.add(RowFactory.create(7_777.5, "new", "l1"));
    for (SerializerInstance serializer : new SerializerInstance[] {
        new JavaSerializer(new SparkConf()).newInstance(), new KryoSerializer(new SparkConf()).newInstance()}) {
      // as a task's partial result, then merged and added to on the other side
      ColumnSummaries merged = roundTrip(serializer, part(0)).merge(roundTrip(serializer, part(20_000)));
      merged.add(RowFactory.create(7_777.5, "new", "l1"));
      ColumnSummaries back = roundTrip(serializer, merged);
      String name = serializer.getClass().getSimpleName();
      assertEquals(expected.rows(), back.rows(), name);
      for (int j = 0; j < 2; j++) {
        assertEquals(expected.distinct(j), back.distinct(j), name + " distinct " + j);
      }
      assertEquals(5_001, back.distinct(0), 5_001 * 0.05, name);
      assertEquals(301, back.distinct(1), 301 * 0.05, name);
      double[] levels = {0.1, 0.5, 0.9};
      assertArrayEquals(expected.quantiles(0, levels), back.quantiles(0, levels), name);
      // the even rows' label is l0, the odd ones' l1, every tenth (even) one's null
      assertEquals(java.util.Map.of("", 4_000L, "l0", 16_000L, "l1", 20_001L), back.labelCounts(), name);
    }
  }
}
