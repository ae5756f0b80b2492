package io.poisonguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Where a run's time went, job by job, from a Spark event log (uncompressed, as {@code bench/profile} writes it):
 * each job's wall time, the executor CPU its tasks used and the first PoisonGuard frame of its call site, as a
 * markdown table. The first thing to read before changing anything for speed: on a small machine the guard's cost
 * is a few long per-row jobs and many short ones whose planning the driver pays.
 *
 * <p>{@code JobProfile EVENT_LOG_DIR OUT.md [MIN_SECONDS]}: jobs shorter than MIN_SECONDS (default 0.3) of wall time
 * and of executor CPU are counted in the totals but not listed.
 */
public final class JobProfile {
  private static final ObjectMapper JSON = new ObjectMapper();

  private JobProfile() {}

  /** One job: when it was submitted and ended (ms), the executor CPU of its tasks (s), its call site. */
  private static final class Job {
    long submitted;
    long ended;
    double cpuSeconds;
    String site = "";
  }

  public static void main(String[] args) throws IOException {
    double minimum = args.length > 2 ? Double.parseDouble(args[2]) : 0.3;
    Map<Integer, Job> jobs = new TreeMap<>();
    Map<Integer, Job> jobOfStage = new HashMap<>();
    long[] app = new long[2];
    List<Path> logs;
    try (Stream<Path> files = Files.walk(Path.of(args[0]))) {
      // event files only: not the file system's checksums (.name.crc) nor a rolling log's status marker
      logs = files.filter(Files::isRegularFile).filter(f -> {
        String name = f.getFileName().toString();
        return !name.startsWith(".") && !name.endsWith(".crc") && !name.startsWith("appstatus");
      }).sorted().toList();
    }
    for (Path log : logs) {
      try (BufferedReader in = Files.newBufferedReader(log)) {
        for (String line = in.readLine(); line != null; line = in.readLine()) {
          JsonNode event = JSON.readTree(line);
          switch (event.path("Event").asText()) {
            case "SparkListenerApplicationStart" -> app[0] = event.path("Timestamp").asLong();
            case "SparkListenerApplicationEnd" -> app[1] = event.path("Timestamp").asLong();
            case "SparkListenerJobStart" -> {
              Job job = new Job();
              job.submitted = event.path("Submission Time").asLong();
              JsonNode stages = event.path("Stage Infos");
              if (stages.size() > 0) {
                job.site = callSite(stages.get(stages.size() - 1).path("Details").asText());
              }
              event.path("Stage IDs").forEach(id -> jobOfStage.put(id.asInt(), job));
              jobs.put(event.path("Job ID").asInt(), job);
            }
            case "SparkListenerJobEnd" -> jobs.get(event.path("Job ID").asInt()).ended =
                event.path("Completion Time").asLong();
            case "SparkListenerTaskEnd" -> {
              Job job = jobOfStage.get(event.path("Stage ID").asInt());
              if (job != null) {
                job.cpuSeconds += event.path("Task Metrics").path("Executor CPU Time").asLong() / 1e9;
              }
            }
            default -> { }
          }
        }
      }
    }
    StringBuilder md = new StringBuilder("| job | start s | wall s | executor CPU s | call site |\n"
        + "|---:|---:|---:|---:|---|\n");
    double wall = 0;
    double cpu = 0;
    List<String> listed = new ArrayList<>();
    for (Map.Entry<Integer, Job> e : jobs.entrySet()) {
      Job job = e.getValue();
      double seconds = (job.ended - job.submitted) / 1000.0;
      wall += seconds;
      cpu += job.cpuSeconds;
      if (seconds >= minimum || job.cpuSeconds >= minimum) {
        listed.add(String.format(Locale.ROOT, "| %d | %.1f | %.2f | %.2f | %s |", e.getKey(),
            (job.submitted - app[0]) / 1000.0, seconds, job.cpuSeconds, job.site));
      }
    }
    md.append(String.join("\n", listed)).append('\n');
    String totals = String.format(Locale.ROOT, "Application %.1f s; %d jobs, %.1f s of job wall time in all, %.1f "
        + "executor CPU-seconds; jobs under %.1f s of wall time and CPU not listed.%n%n", (app[1] - app[0]) / 1000.0,
        jobs.size(), wall, cpu, minimum);
    Files.writeString(Path.of(args[1]), totals + md);
    System.out.print(totals + md);
  }

  /** The first PoisonGuard frames of a stage's call stack, innermost first, or "" when there is none. */
  private static String callSite(String details) {
    List<String> frames = new ArrayList<>();
    for (String line : details.split("\n")) {
      String frame = line.trim();
      if (frame.startsWith("io.poisonguard.") && frames.size() < 2) {
        frames.add(frame.substring("io.poisonguard.".length()).replace(".java", ""));
      }
    }
    return String.join(" < ", frames);
  }
}
