package org.rapaio.jupyter.kernel.channels;

/**
 * Stands in for the polling thread of the rapaio Java kernel 3.0.1 (same package, name and constructor), put ahead
 * of the kernel's jar on the classpath by {@code notebooks/install-kernel}.
 *
 * <p>Why: the kernel's own thread marks itself running only after {@code Thread.start()} returns. A thread that gets
 * the processor first sees "not running" and ends at once. When that is the shell channel's thread, the kernel never
 * answers {@code kernel_info_request} and Jupyter gives up with "Kernel didn't respond". On this project's 2-core
 * machines it happened in 5 and 6 of 30 kernel starts (two runs with both cores held by busy loops), and three
 * starts in a row once failed a CI run. This thread is running from construction, so it cannot miss its first turn.
 */
public final class LoopThread extends Thread {
  private final long sleepMillis;
  private final Runnable body;
  private volatile boolean running = true;

  /**
   * @param name thread name
   * @param sleepMillis pause between two turns of {@code body}
   * @param body one poll of the channel's socket
   */
  public LoopThread(String name, long sleepMillis, Runnable body) {
    super(name);
    this.sleepMillis = sleepMillis;
    this.body = body;
  }

  @Override
  public void run() {
    while (running) {
      body.run();
      try {
        Thread.sleep(sleepMillis);
      } catch (InterruptedException e) {
        running = false;
      }
    }
  }

  /** Ends the loop after the current turn. */
  public void shutdown() {
    running = false;
  }
}
