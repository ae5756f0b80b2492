package io.poisonguard.spark;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.JavaSerializer;
import org.apache.spark.serializer.KryoRegistrator;

/**
 * Makes PoisonGuard's objects travel under Kryo ({@code spark.serializer=org.apache.spark.serializer.KryoSerializer},
 * a common cluster setting), which Spark then uses for broadcast models and task results. Kryo's default
 * serializers cannot build Java records (the fitted detectors' states are records) nor fill the JDK's immutable
 * collections ({@code List.of}, {@code Map.copyOf}: they reject {@code add}), so those go through Java
 * serialization, as they do under Spark's default serializer. {@link SparkSessions#create} adds this registrator
 * to {@code spark.kryo.registrator}; an application that builds its own Kryo session adds it there itself.
 */
public final class KryoRegistration implements KryoRegistrator {
  /** The JDK's (package-private) bases of the immutable lists, sets and maps. */
  private static final String[] IMMUTABLE_BASES = {
      "java.util.ImmutableCollections$AbstractImmutableCollection", "java.util.ImmutableCollections$AbstractImmutableMap"};

  @Override
  public void registerClasses(Kryo kryo) {
    kryo.addDefaultSerializer(Record.class, new JavaSerializer());
    for (String base : IMMUTABLE_BASES) {
      try {
        kryo.addDefaultSerializer(Class.forName(base), new JavaSerializer());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("this JDK has no " + base + " to register with Kryo", e);
      }
    }
  }
}
