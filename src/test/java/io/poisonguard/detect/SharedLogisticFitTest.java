package io.poisonguard.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The logistic fit is shared only within a scope, for the same dataset, columns and ridge, and changes no score. */
@ExtendWith(SharedSpark.class)
class SharedLogisticFitTest {
  private static final LogisticFits.Fit FIT = new LogisticFits.Fit(new double[1][1][1], new double[1][1][1],
      new double[1][1][1], new long[] {1});

  @Test
  void aFitIsReusedOnlyWithinAScopeForTheSameDatasetColumnsAndRidge(SparkSession spark) {
    Dataset<Row> one = spark.range(3).toDF();
    Dataset<Row> other = spark.range(3).toDF();
    AtomicInteger fits = new AtomicInteger();
    Supplier<LogisticFits.Fit> counted = () -> {
      fits.incrementAndGet();
      return FIT;
    };
    SharedLogisticFit.of(one, "f", "l", 1e-3, counted);
    SharedLogisticFit.of(one, "f", "l", 1e-3, counted);
    assertEquals(2, fits.get(), "outside a scope every detector fits its own");
    try (SharedLogisticFit.Scope scope = SharedLogisticFit.scope()) {
      SharedLogisticFit.of(one, "f", "l", 1e-3, counted);
      SharedLogisticFit.of(one, "f", "l", 1e-3, counted);
      assertEquals(3, fits.get(), "the same dataset, columns and ridge: fitted once");
      SharedLogisticFit.of(one, "f", "l", 1e-2, counted);
      SharedLogisticFit.of(one, "g", "l", 1e-3, counted);
      SharedLogisticFit.of(other, "f", "l", 1e-3, counted);
      assertEquals(6, fits.get(), "another ridge, column or dataset object: a fit of its own");
    }
    SharedLogisticFit.of(one, "f", "l", 1e-3, counted);
    assertEquals(7, fits.get(), "a closed scope forgets its fits");
  }

  @Test
  void spectralScoresFromTheInfluenceDetectorsFitEqualThoseFromItsOwn(SparkSession spark) {
    Spambase data = Spambase.load(spark);
    try {
      Dataset<Row> batch = Spambase.flip(data.clean, 0.05, 3);
      Dataset<Row> prepared = FeaturePreparer.forSchema(data.schema).fit(batch).transform(batch).cache();
      SpectralModel alone = new SpectralDetector().fit(prepared);
      SpectralModel shared;
      try (SharedLogisticFit.Scope scope = SharedLogisticFit.scope()) {
        new InfluenceDetector().fit(prepared);
        shared = new SpectralDetector().fit(prepared);
      }
      List<Row> a = scores(alone, prepared);
      List<Row> b = scores(shared, prepared);
      assertEquals(Spambase.ROWS, a.size());
      for (int i = 0; i < a.size(); i++) {
        assertEquals(a.get(i).get(0), b.get(i).get(0));
        double expected = a.get(i).getDouble(1);
        assertEquals(expected, b.get(i).getDouble(1), 1e-6 * Math.max(1, Math.abs(expected)),
            "row " + a.get(i).get(0));
      }
      prepared.unpersist();
    } finally {
      data.release();
    }
  }

  private static List<Row> scores(SpectralModel model, Dataset<Row> prepared) {
    return model.transform(prepared).select(functions.col(Columns.ID), functions.col(model.getScoreCol()))
        .orderBy(Columns.ID).collectAsList();
  }
}
