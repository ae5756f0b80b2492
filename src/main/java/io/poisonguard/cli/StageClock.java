package io.poisonguard.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/** Times the stages of a run and prints one progress line per stage with its elapsed seconds. */
final class StageClock {
  private final PrintStream out;
  private final int stages;
  private final Map<String, Double> seconds = new LinkedHashMap<>();

  StageClock(PrintStream out, int stages) {
    this.out = out;
    this.stages = stages;
  }

  /** Runs a stage; {@code describe} turns its result into the progress line's text. */
  <T> T stage(String name, Supplier<T> work, java.util.function.Function<T, String> describe) {
    long start = System.nanoTime();
    T result = work.get();
    double elapsed = (System.nanoTime() - start) / 1e9;
    seconds.put(name, Math.round(elapsed * 1000) / 1000.0);
    out.printf(Locale.ROOT, "[%d/%d] %-9s %-62s %6.1f s%n", seconds.size(), stages, name, describe.apply(result),
        elapsed);
    out.flush();
    return result;
  }

  /** Seconds per stage so far, in order. */
  Map<String, Double> timings() {
    return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(seconds));
  }
}
