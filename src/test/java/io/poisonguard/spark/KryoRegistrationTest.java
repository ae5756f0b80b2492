package io.poisonguard.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/** What Kryo cannot carry on its own (records, the JDK's immutable collections) it carries with the registration. */
class KryoRegistrationTest {
  /** A fitted state shaped like the detectors': a record holding arrays and an immutable list. */
  record State(double[][] weights, List<String> names) implements Serializable {}

  private static final ClassTag<Object> ANY = ClassTag$.MODULE$.AnyRef();

  private static SerializerInstance kryo(boolean registered) {
    SparkConf conf = new SparkConf();
    if (registered) {
      conf.set("spark.kryo.registrator", KryoRegistration.class.getName());
    }
    return new KryoSerializer(conf).newInstance();
  }

  private static Object roundTrip(SerializerInstance serializer, Object value) {
    return serializer.deserialize(serializer.serialize(value, ANY), ANY);
  }

  @Test
  void recordsAndImmutableCollectionsTravelWithTheRegistration() {
    SerializerInstance kryo = kryo(true);
    State state = new State(new double[][] {{1, 2}, {3, 4.5}}, List.of("a", "b"));
    State back = (State) roundTrip(kryo, state);
    assertArrayEquals(state.weights(), back.weights());
    assertEquals(state.names(), back.names());
    assertEquals(List.of(1, 2, 3), roundTrip(kryo, List.of(1, 2, 3)));
    assertEquals(Set.of("x"), roundTrip(kryo, Set.of("x")));
    assertEquals(Map.of("k", 1.0, "l", 2.0), roundTrip(kryo, Map.of("k", 1.0, "l", 2.0)));
  }

  @Test
  void withoutItKryoFailsOnThem() {
    SerializerInstance kryo = kryo(false);
    assertThrows(RuntimeException.class, () -> roundTrip(kryo, new State(new double[][] {{1}}, List.of())));
    assertThrows(RuntimeException.class, () -> roundTrip(kryo, List.of(1, 2, 3)));
  }
}
