package io.poisonguard.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.poisonguard.spark.Columns;
import io.poisonguard.spark.SharedSpark;
import io.poisonguard.spark.StandaloneCluster;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same pipeline on a real standalone cluster (Master and two Workers as separate JVMs, the driver a third,
 * the project jar shipped to executors, Kryo serialization) gives the same verdicts and scores as the local run
 * (Java serialization).
 */
@Tag("cluster")
@ExtendWith(SharedSpark.class)
class ClusterRunTest {
  @TempDir
  Path dir;

  @Test
  void clusterAndLocalRunsAgree(SparkSession spark) throws Exception {
    Path batch = dir.resolve("batch.csv");
    List<String> all = Files.readAllLines(Path.of("data/spambase.csv"));
    List<String> lines = new ArrayList<>(List.of(all.get(0)));
    for (int i = 1; i < all.size(); i += 3) {
      lines.add(all.get(i));
    }
    Files.write(batch, lines);
    String shuffle = "spark.conf={spark.sql.shuffle.partitions: '4'}";

    Path localWarehouse = dir.resolve("local");
    CliRun local = CliRun.of("run", "--pipeline", "pipelines/quickstart.yaml", "--warehouse",
        localWarehouse.toString(), "--set", "input.path=" + batch, "--set", shuffle);
    assertEquals(0, local.exitCode(), local.err());

    Path clusterWarehouse = dir.resolve("cluster");
    try (StandaloneCluster cluster = StandaloneCluster.start(dir.resolve("cluster-procs"), 2, 1)) {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx1g");
      cmd.addAll(StandaloneCluster.JVM_FLAGS);
      // executors get Spark, Delta and the libraries from their own classpath, and PoisonGuard from the shipped jar
      cmd.add("-Dspark.executor.extraClassPath=" + dependencyClasspath());
      cmd.add("-Dspark.jars=" + projectJar());
      cmd.add("-Dspark.cores.max=2");
      cmd.add("-Dspark.executor.memory=1g");
      cmd.add("-Dspark.executorEnv.SPARK_SCALA_VERSION=2.13");
      cmd.add("-Dspark.executorEnv.SPARK_LOCAL_IP=127.0.0.1");
      cmd.add("-Dspark.driver.host=127.0.0.1");
      // Kryo, as clusters are often set up: the local run keeps Java serialization, so agreement covers both
      cmd.add("-Dspark.serializer=org.apache.spark.serializer.KryoSerializer");
      cmd.add("-Dlog4j2.configurationFile=" + Path.of("conf/log4j2.properties").toAbsolutePath());
      cmd.add("-cp");
      cmd.add(StandaloneCluster.classpath());
      cmd.addAll(List.of("io.poisonguard.cli.Main", "run", "--pipeline", "pipelines/quickstart.yaml",
          "--warehouse", clusterWarehouse.toString(), "--master", cluster.masterUrl(),
          "--set", "input.path=" + batch, "--set", shuffle));
      Path log = dir.resolve("driver.log");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().putAll(cluster.environment());
      Process driver = pb.start();
      boolean finished = driver.waitFor(8, TimeUnit.MINUTES);
      if (!finished) {
        driver.destroyForcibly();
      }
      String output = Files.readString(log);
      assertTrue(finished, "cluster driver timed out:\n" + output);
      assertEquals(0, driver.exitValue(), output);
      assertTrue(output.contains("rows read"), output);
    }

    for (String table : List.of("quickstart/clean", "quickstart/quarantine")) {
      Dataset<Row> a = spark.read().format("delta").load(localWarehouse.resolve(table).toString());
      Dataset<Row> b = spark.read().format("delta").load(clusterWarehouse.resolve(table).toString());
      assertEquals(a.count(), b.count(), table);
      Dataset<Row> joined = a.select(functions.col(Columns.ID), functions.col(Columns.POISON_SCORE).as("x"))
          .join(b.select(functions.col(Columns.ID), functions.col(Columns.POISON_SCORE).as("y")), Columns.ID);
      assertEquals(a.count(), joined.count(), "same ids in " + table);
      double maxDiff = joined.agg(functions.max(functions.abs(functions.col("x").minus(functions.col("y")))))
          .head().getDouble(0);
      assertTrue(maxDiff <= 1e-9, table + ": scores differ by up to " + maxDiff);
    }
  }

  /** The test classpath without the project's own classes: what a cluster has installed. */
  private static String dependencyClasspath() {
    return Arrays.stream(StandaloneCluster.classpath().split(File.pathSeparator))
        .filter(e -> !e.endsWith("target/classes") && !e.endsWith("target/test-classes"))
        .collect(Collectors.joining(File.pathSeparator));
  }

  /** The project's compiled classes as a jar, as spark-submit would ship it. */
  private Path projectJar() throws IOException {
    Path classes = Path.of("target/classes").toAbsolutePath();
    Path jar = dir.resolve("poisonguard.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
        Stream<Path> files = Files.walk(classes)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
        try (OutputStream entry = new NonClosing(out)) {
          Files.copy(f, entry);
        }
        out.closeEntry();
      }
    }
    return jar;
  }

  /** Lets Files.copy write an entry without closing the jar stream. */
  private static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
