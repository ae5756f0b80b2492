package io.poisonguard.detect;

import io.poisonguard.spark.SharedSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Base of the detector tests whose cases share one cached load of the bundled Spambase: loaded before the class's
 * first test (and before its own {@code @BeforeAll} methods), released after its last.
 */
@ExtendWith(SharedSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OnSpambase {
  /** Spambase with a stable row id, cached while the class runs. */
  protected Spambase data;

  @BeforeAll
  void loadSpambase(SparkSession spark) {
    data = Spambase.load(spark);
  }

  @AfterAll
  void releaseSpambase() {
    data.release();
  }
}
