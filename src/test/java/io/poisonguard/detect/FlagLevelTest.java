package io.poisonguard.detect;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.config.Contamination;
import io.poisonguard.config.DetectConfig;
import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The flag's level under a contamination setting ({@link FlagLevel}): on combined p-values with a known share of
 * poison, then through the detection stage on Spambase with 10% of its labels flipped, fitted on the batch (whole and
 * sampled) and on a trusted fifth.
 */
@ExtendWith(SharedSpark.class)
class FlagLevelTest {
  private static final long SEED = 7;
  private static final double TARGET = 0.01;

  /**
   * 20,000 rows whose combined p-values are uniform but for a share of them near 0: the estimate bounds that share
   * from below and comes within a percent of it; with no such rows it is 0 and the level is the target's; a fixed
   * share flags that share of the rows.
   */
  @Test
  void estimateBoundsThePoisonedShareFromBelow(SparkSession spark) {
    for (double poisoned : new double[] {0.0, 0.03, 0.10}) {
      Dataset<Row> rows = combined(spark, 20_000, poisoned);
      FlagLevel.Level estimated = FlagLevel.of(rows, Contamination.ESTIMATED, TARGET);
      if (poisoned == 0) {
        assertEquals(0, estimated.share(), "a clean batch's estimate");
        assertEquals(TARGET, estimated.level());
      } else {
        assertTrue(estimated.share() <= poisoned && estimated.share() > poisoned - 0.01,
            "estimate " + estimated.share() + " for " + poisoned);
        assertTrue(estimated.level() >= TARGET);
      }
      FlagLevel.Level fixed = FlagLevel.of(rows, new Contamination(Contamination.Mode.FIXED, 0.05), TARGET);
      double flagged = rows.where(lit(1.0).minus(col(Columns.POISON_SCORE)).leq(fixed.level())).count()
          / 20_000.0;
      double atTarget = rows.where(lit(1.0).minus(col(Columns.POISON_SCORE)).leq(TARGET)).count() / 20_000.0;
      // the target alone flags 10.9% of the rows when 10% are poisoned: the setting only widens the flag
      assertEquals(Math.max(0.05, atTarget), flagged, 1e-4, "share flagged at the level for a 5% contamination");
      assertEquals(0.05, fixed.share());
    }
    FlagLevel.Level off = FlagLevel.of(combined(spark, 1_000, 0.1), Contamination.OFF, TARGET);
    assertEquals(TARGET, off.level());
    assertEquals(0, off.share());
  }

  /** The bound at one level: clean rows' share below t is t, and what is left over, less noise, is poison. */
  @Test
  void lowerBoundFollowsTheExcessOfSmallPValues() {
    double[] uniform = FlagLevel.GRID.clone();
    assertEquals(0, FlagLevel.lowerBound(uniform, 1_000_000));
    double[] mixed = new double[FlagLevel.GRID.length];
    for (int i = 0; i < mixed.length; i++) {
      mixed[i] = 0.2 + 0.8 * FlagLevel.GRID[i];
    }
    double bound = FlagLevel.lowerBound(mixed, 1_000_000);
    assertTrue(bound < 0.2 && bound > 0.199, "bound " + bound);
    assertTrue(FlagLevel.lowerBound(mixed, 100) < bound - 0.001, "fewer rows, wider margin");
  }

  /**
   * Through the detection stage: a 10% contamination flags about 10% of the rows, finds more of the flipped labels
   * than the 1% target alone, and keeps the target's flags; {@code auto} flags at least what the target flags.
   * Fitted on the whole batch, on a sample of it (the level then comes from the held-out rows), and on a trusted
   * fifth of the clean rows (from a sample of the batch).
   */
  @Test
  void contaminationWidensTheFlagToTheShare(SparkSession spark) {
    Spambase data = Spambase.load(spark);
    Dataset<Row> clean = data.clean;
    Dataset<Row> trusted = clean.where(functions.pmod(col(Columns.ID), lit(5)).equalTo(0));
    Dataset<Row> rest = Spambase.flip(clean, 0.10, SEED).where(functions.pmod(col(Columns.ID), lit(5)).notEqual(0))
        .cache();
    List<String> failures = new ArrayList<>();
    try {
      for (String path : List.of("batch", "sampled", "trusted")) {
        DetectConfig base = new DetectConfig(TARGET, path.equals("sampled") ? 1_500 : 100_000, Map.of());
        Dataset<Row> reference = path.equals("trusted") ? trusted : null;
        Flags plain = flags(rest, reference, data, base);
        Flags share = flags(rest, reference, data,
            base.withContamination(new Contamination(Contamination.Mode.FIXED, 0.10)));
        Flags auto = flags(rest, reference, data, base.withContamination(Contamination.ESTIMATED));
        System.out.printf("contamination on spambase flips, %s fit: flagged %.4f / %.4f / %.4f of rows, recall "
            + "%.3f / %.3f / %.3f (target only / 0.10 / auto, estimate %.4f, level %.4g)%n", path, plain.share(),
            share.share(), auto.share(), plain.recall(), share.recall(), auto.recall(), auto.estimate(),
            auto.level());
        // Exact but for rows tied at the level (flagged together), or estimated from a held-out sample of the rows
        if (Math.abs(share.share() - 0.10) > (path.equals("sampled") ? 0.015 : 0.005)) {
          failures.add(path + ": share flagged at 0.10 contamination " + share.share());
        }
        if (!(share.recall() > plain.recall() + 0.1)) {
          failures.add(path + ": recall " + share.recall() + " against " + plain.recall() + " at the target alone");
        }
        if (!share.ids().containsAll(plain.ids()) || !auto.ids().containsAll(plain.ids())) {
          failures.add(path + ": a contamination setting dropped some of the target's flags");
        }
        if (auto.estimate() > 0.10 || auto.share() < plain.share()) {
          failures.add(path + ": auto estimate " + auto.estimate() + ", flagged " + auto.share());
        }
      }
    } finally {
      rest.unpersist();
      data.release();
    }
    assertTrue(failures.isEmpty(), String.join("; ", failures));
  }

  /**
   * The flag under one setting.
   *
   * @param share flagged share of the batch
   * @param recall flagged share of the flipped rows
   * @param ids ids of the flagged rows
   * @param estimate the contamination share the level was set for
   * @param level the flag's level
   */
  private record Flags(double share, double recall, Set<Long> ids, double estimate, double level) {}

  private static Flags flags(Dataset<Row> batch, Dataset<Row> trusted, Spambase data, DetectConfig config) {
    PoisonScorer.Scored scored = PoisonScorer.fitAndScore(batch, trusted, data.schema, config, SEED);
    try {
      Row r = scored.rows().agg(functions.count(lit(1)),
          functions.sum(when(col(Columns.FLAGGED), 1L).otherwise(0L)),
          functions.sum(when(col(Spambase.FLIPPED), 1L).otherwise(0L)),
          functions.sum(when(col(Columns.FLAGGED).and(col(Spambase.FLIPPED)), 1L).otherwise(0L))).head();
      long rows = r.getLong(0);
      Set<Long> ids = new HashSet<>();
      scored.rows().where(col(Columns.FLAGGED)).select(Columns.ID).collectAsList().forEach(i -> ids.add(i.getLong(0)));
      return new Flags(r.getLong(1) / (double) rows, r.getLong(3) / (double) r.getLong(2), ids,
          scored.fitted().contaminationShare(), scored.fitted().flagLevel());
    } finally {
      scored.release();
    }
  }

  /** Rows whose combined p is uniform, but for a seeded {@code poisoned} share whose p is below 10⁻⁵. */
  private static Dataset<Row> combined(SparkSession spark, int n, double poisoned) {
    Random random = new Random(SEED);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double p = i < poisoned * n ? 1e-5 * random.nextDouble() : random.nextDouble();
      rows.add(RowFactory.create(1.0 - p));
    }
    return spark.createDataFrame(rows, new StructType().add(Columns.POISON_SCORE, DataTypes.DoubleType, false))
        .repartition(4);
  }
}
