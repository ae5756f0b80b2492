package io.poisonguard.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import scala.Tuple2;

/**
 * An aggregation whose result does not depend on which task finishes first: every partition is folded in its own
 * task, and the partition results are merged in partition order (through grouped levels of at most a fan-in of
 * partial results each when there are more). {@code treeAggregate} merges in completion order, so a model fitted by
 * summing gradients with it can differ in its last bits from one run to the next (an optimiser amplifies those bits
 * over its passes), and a quantile sketch, whose compactions depend on merge order, in its quantiles; "the same data
 * and seed give the same result" would not hold. The driver holds at most a fan-in of partial results at once.
 * Failures of {@code add} or {@code merge} surface unchecked.
 */
public final class OrderedAggregate {
  /** Most partial results merged in one place. */
  static final int FAN_IN = 256;

  private OrderedAggregate() {}

  /** Folds {@code rows} into {@code zero} (copied per task by Spark's closure serialization) with {@code add}. */
  public static <T, U extends Serializable> U of(JavaRDD<T> rows, U zero, Function2<U, T, U> add,
      Function2<U, U, U> merge) {
    return of(rows, zero, add, merge, FAN_IN);
  }

  /**
   * As {@link #of(JavaRDD, Serializable, Function2, Function2)}, merging at most {@code fanIn} partial results in
   * one place (a task or the driver), through as many grouped levels as that takes: for large partial results such
   * as sketches, which must not pile up by the hundred in one heap.
   */
  public static <T, U extends Serializable> U of(JavaRDD<T> rows, U zero, Function2<U, T, U> add,
      Function2<U, U, U> merge, int fanIn) {
    JavaRDD<Tuple2<Integer, U>> partials = rows.mapPartitionsWithIndex((index, it) -> {
      U acc = zero;
      while (it.hasNext()) {
        acc = add.call(acc, it.next());
      }
      List<Tuple2<Integer, U>> one = new ArrayList<>(1);
      one.add(new Tuple2<>(index, acc));
      return one.iterator();
    }, true);
    for (int groups = rows.getNumPartitions(); groups > fanIn; groups = (groups + fanIn - 1) / fanIn) {
      partials = partials.mapToPair(t -> new Tuple2<>(t._1() / fanIn, t)).groupByKey().map(group -> {
        List<Tuple2<Integer, U>> members = new ArrayList<>();
        group._2().forEach(members::add);
        return new Tuple2<>(group._1(), mergeInOrder(members, merge));
      });
    }
    // at most fanIn partial results, one per partition or group
    try {
      U result = mergeInOrder(new ArrayList<>(partials.collect()), merge);
      return result == null ? zero : result;
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Merges partial results by ascending index; null when there are none. */
  private static <U> U mergeInOrder(List<Tuple2<Integer, U>> members, Function2<U, U, U> merge) throws Exception {
    members.sort(Comparator.comparing(Tuple2::_1));
    U acc = null;
    for (Tuple2<Integer, U> t : members) {
      acc = acc == null ? t._2() : merge.call(acc, t._2());
    }
    return acc;
  }
}
