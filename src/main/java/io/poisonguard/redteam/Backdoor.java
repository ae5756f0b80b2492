package io.poisonguard.redteam;

import io.poisonguard.spark.Columns;
import io.poisonguard.config.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * Backdoor: copies of rows from other classes with a trigger (chosen features set to chosen values) labelled with
 * the target class ({@code --target-class}, default the second largest). {@code --trigger f1=v1,f2=v2} names the
 * trigger; by default three numeric features picked by the seed, each set to its 99.9th percentile — every value
 * plausible on its own, the combination rare.
 */
final class Backdoor implements Attack {
  @Override
  public String name() {
    return "backdoor";
  }

  /** The trigger: feature to value. */
  static Map<String, Double> trigger(AttackContext ctx) {
    Map<String, Double> trigger = new LinkedHashMap<>();
    String given = ctx.spec().option("trigger", null);
    List<String> numeric = ctx.schema().numericFeatures();
    if (given != null) {
      for (String pair : given.split(",")) {
        String[] kv = pair.split("=", 2);
        if (kv.length != 2 || !numeric.contains(kv[0].trim())) {
          throw new ConfigException("redteam: --trigger '" + pair + "' must be NUMERIC_FEATURE=VALUE");
        }
        try {
          trigger.put(kv[0].trim(), Double.parseDouble(kv[1].trim()));
        } catch (NumberFormatException e) {
          throw new ConfigException("redteam: --trigger '" + pair + "': the value is not a number");
        }
      }
      return trigger;
    }
    List<String> shuffled = new ArrayList<>(numeric);
    java.util.Collections.shuffle(shuffled, new java.util.Random(ctx.spec().seed()));
    List<String> chosen = shuffled.subList(0, Math.min(3, shuffled.size()));
    Quantiles q = Quantiles.of(ctx.rows(), chosen, 0.5, 0.999);
    for (int j = 0; j < chosen.size(); j++) {
      trigger.put(chosen.get(j), q.high()[j] > q.low()[j] ? q.high()[j] : q.low()[j] + 1);
    }
    return trigger;
  }

  @Override
  public Dataset<Row> apply(AttackContext ctx) {
    String target = ctx.classOption("target-class", ctx.classes().get(1));
    String label = ctx.schema().labelColumn();
    Map<String, Double> trigger = trigger(ctx);
    Dataset<Row> others = ctx.rows().filter(Columns.col(label).notEqual(target));
    long available = ctx.size() - ctx.classCounts().get(ctx.classes().indexOf(target));
    Dataset<Row> added = ctx.draw(others, available, ctx.rowsToAdd(), "backdoor");
    for (Map.Entry<String, Double> t : trigger.entrySet()) {
      added = added.withColumn(t.getKey(), functions.lit(t.getValue()));
    }
    Column targetLabel = functions.lit(target);
    return ctx.withAdded(ctx.withNewIds(added.withColumn(label, targetLabel), "backdoor"));
  }
}
