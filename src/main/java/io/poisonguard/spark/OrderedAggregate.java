package io.poisonguard.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import scala.Tuple2;

/**
 * An aggregation whose floating-point result does not depend on which task finishes first: every partition is folded
 * in its own task, and the partition results are merged in partition order (through one grouped level of at most
 * {@link #FAN_IN} partitions each when there are more). {@code treeAggregate} merges in completion order, so a model
 * fitted by summing gradients with it can differ in its last bits from one run to the next; an optimiser amplifies
 * those bits over its passes, and "the same data and seed give the same model" would not hold. The driver holds at most
 * {@link #FAN_IN} partial results at once.
 */
public final class OrderedAggregate {
  /** Most partial results merged in one place. */
  static final int FAN_IN = 256;

  private OrderedAggregate() {}

  /** Folds {@code rows} into {@code zero} (copied per task by Spark's closure serialization) with {@code add}. */
  public static <T, U extends Serializable> U of(JavaRDD<T> rows, U zero, Function2<U, T, U> add,
      Function2<U, U, U> merge) throws Exception {
    JavaRDD<Tuple2<Integer, U>> partials = rows.mapPartitionsWithIndex((index, it) -> {
      U acc = zero;
      while (it.hasNext()) {
        acc = add.call(acc, it.next());
      }
      List<Tuple2<Integer, U>> one = new ArrayList<>(1);
      one.add(new Tuple2<>(index, acc));
      return one.iterator();
    }, true);
    if (rows.getNumPartitions() > FAN_IN) {
      partials = partials.mapToPair(t -> new Tuple2<>(t._1() / FAN_IN, t)).groupByKey().map(group -> {
        List<Tuple2<Integer, U>> members = new ArrayList<>();
        group._2().forEach(members::add);
        members.sort(Comparator.comparing(Tuple2::_1));
        U acc = members.get(0)._2();
        for (int i = 1; i < members.size(); i++) {
          acc = merge.call(acc, members.get(i)._2());
        }
        return new Tuple2<>(group._1(), acc);
      });
    }
    // at most FAN_IN partial results, one per partition or group
    List<Tuple2<Integer, U>> collected = new ArrayList<>(partials.collect());
    collected.sort(Comparator.comparing(Tuple2::_1));
    U result = null;
    for (Tuple2<Integer, U> t : collected) {
      result = result == null ? t._2() : merge.call(result, t._2());
    }
    return result == null ? zero : result;
  }
}
