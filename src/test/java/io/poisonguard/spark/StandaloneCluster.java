package io.poisonguard.spark;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Spark standalone cluster on 127.0.0.1 for tests: a Master and some Workers, each its own JVM started
 * from the test classpath (no Spark distribution is installed; the Worker only needs a SPARK_HOME with a jars
 * folder and the Scala version in its environment). Closing it stops every process, also after a failed test.
 */
public final class StandaloneCluster implements AutoCloseable {
  /** Module flags the Master, Worker and executor JVMs need on Java 17. */
  public static final List<String> JVM_FLAGS = List.of("-XX:+IgnoreUnrecognizedVMOptions",
      "--add-opens=java.base/java.lang=ALL-UNNAMED", "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
      "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-opens=java.base/java.io=ALL-UNNAMED",
      "--add-opens=java.base/java.net=ALL-UNNAMED", "--add-opens=java.base/java.nio=ALL-UNNAMED",
      "--add-opens=java.base/java.util=ALL-UNNAMED", "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
      "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED", "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
      "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED", "-Djdk.reflect.useDirectMethodHandle=false");

  /** Launches tried before giving up (see {@link #start}). */
  private static final int ATTEMPTS = 3;

  private final List<Process> processes = new ArrayList<>();
  private final Path dir;
  private final Path sparkHome;
  private int port;

  private StandaloneCluster(Path dir) throws IOException {
    this.dir = dir;
    this.sparkHome = dir.resolve("spark-home");
    Files.createDirectories(sparkHome.resolve("jars"));
  }

  /**
   * Starts a Master and {@code workers} Workers with {@code coresPerWorker} cores each; waits until registered. A
   * port is picked free but only taken when its JVM has started, so another process (a Spark session of the other
   * test fork) can take it first: the Master then binds the next port up, and Workers sent to the picked one
   * never register (seen once in a full suite, "timed out waiting for 2 workers registered"). Such a launch is
   * stopped and tried again on fresh ports, up to {@value #ATTEMPTS} times.
   */
  public static StandaloneCluster start(Path dir, int workers, int coresPerWorker) throws Exception {
    StandaloneCluster cluster = new StandaloneCluster(dir);
    for (int attempt = 1; ; attempt++) {
      try {
        cluster.launch(workers, coresPerWorker);
        return cluster;
      } catch (IllegalStateException e) {
        cluster.close();
        if (attempt == ATTEMPTS) {
          throw e;
        }
      } catch (Exception | Error e) {
        cluster.close();
        throw e;
      }
    }
  }

  private void launch(int workers, int cores) throws Exception {
    port = freePort();
    int ui = freePort();
    start("master", "org.apache.spark.deploy.master.Master",
        List.of("--host", "127.0.0.1", "--port", "" + port, "--webui-port", "" + ui));
    // The Master's own state names the port it bound: a connection to the picked port alone could reach whoever
    // took it.
    waitFor(() -> {
      String json = http("http://127.0.0.1:" + ui + "/json/").replace(" ", "");
      if (!json.contains("\"url\":\"" + masterUrl() + "\"")) {
        throw new IllegalStateException("standalone cluster: the master did not bind port " + port);
      }
      return true;
    }, "master on port " + port);
    for (int w = 0; w < workers; w++) {
      start("worker" + w, "org.apache.spark.deploy.worker.Worker", List.of("--host", "127.0.0.1", "--cores",
          "" + cores, "--memory", "1g", "--webui-port", "" + freePort(), "--work-dir",
          dir.resolve("work" + w).toString(), masterUrl()));
    }
    waitFor(() -> {
      String json = http("http://127.0.0.1:" + ui + "/json/");
      return json.replace(" ", "").contains("\"aliveworkers\":" + workers);
    }, workers + " workers registered");
  }

  /** The master URL, {@code spark://127.0.0.1:PORT}. */
  public String masterUrl() {
    return "spark://127.0.0.1:" + port;
  }

  /** Environment every JVM of the cluster (and a driver talking to it) needs. */
  public Map<String, String> environment() {
    return Map.of("SPARK_LOCAL_IP", "127.0.0.1", "SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13");
  }

  /** The test JVM's classpath (Spark, Delta, Tribuo, the project's classes). */
  public static String classpath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null ? cp : System.getProperty("java.class.path");
  }

  private void start(String name, String mainClass, List<String> args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.addAll(JVM_FLAGS);
    cmd.add("-cp");
    cmd.add(classpath());
    cmd.add(mainClass);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve(name + ".log").toFile());
    pb.environment().putAll(environment());
    processes.add(pb.start());
  }

  @Override
  public void close() {
    for (int i = processes.size() - 1; i >= 0; i--) {
      Process p = processes.get(i);
      p.descendants().forEach(ProcessHandle::destroy);
      p.destroy();
      try {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly();
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
    processes.clear();
  }

  @FunctionalInterface
  private interface Probe {
    boolean ready() throws Exception;
  }

  private static void waitFor(Probe probe, String what) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < end) {
      try {
        if (probe.ready()) {
          return;
        }
      } catch (IOException notYet) {
        // not up yet
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("standalone cluster: timed out waiting for " + what);
  }

  private static String http(String url) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
    try (InputStream in = c.getInputStream()) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
