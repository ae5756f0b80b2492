package io.poisonguard.spark;

import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension that gives every test class the same local SparkSession, created once per test JVM
 * (start-up costs seconds) and stopped when the JVM's root context closes.
 */
public final class SharedSpark implements BeforeAllCallback, ParameterResolver {
  private static final String KEY = "poisonguard.spark";

  /** The shared session; creates it on first use. */
  public static synchronized SparkSession session() {
    SparkSession active = SparkSession.getDefaultSession().getOrElse(() -> null);
    if (active != null) {
      return active;
    }
    return SparkSessions.create("poisonguard-tests", "local[2]",
        Map.of("spark.sql.shuffle.partitions", "4", "spark.default.parallelism", "4"));
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
        .getOrComputeIfAbsent(KEY, k -> new Closer(session()), Closer.class);
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == SparkSession.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    return session();
  }

  private record Closer(SparkSession spark) implements AutoCloseable {
    @Override
    public void close() {
      spark.stop();
    }
  }
}
