package org.rapaio.jupyter.kernel.channels;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Stands in for the polling thread of the rapaio Java kernel 3.0.1 (same package, name and constructor), put ahead
 * of the kernel's jar on the classpath by {@code notebooks/install-kernel}. It fixes two start-up races that leave a
 * kernel deaf, so that Jupyter gives up with "Kernel didn't respond":
 * <ul>
 *   <li>The kernel's own thread marks itself running only after {@code Thread.start()} returns, so a thread that gets
 *       the processor first sees "not running" and ends at once. This one is running from construction.
 *   <li>The kernel binds its sockets and starts their threads before it builds its table of message handlers. A
 *       {@code kernel_info_request} that arrives in between (Jupyter sends one as soon as it can connect) throws
 *       in the lookup, and the exception ended the thread. Here a turn that throws is logged and the loop goes on,
 *       and Jupyter's next request, a second later, is answered.
 * </ul>
 * Measured by starting the kernel through Jupyter's client with both cores held by busy loops: 5 and 6 of 30
 * starts hung on the kernel's own thread; 1 of 34 hung with the first fix alone, on the second race; none of 200
 * with both (two of those kernels logged the failed turn, then answered).
 */
public final class LoopThread extends Thread {
  private static final Logger LOGGER = Logger.getLogger(LoopThread.class.getSimpleName());

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
      try {
        body.run();
      } catch (RuntimeException e) {
        LOGGER.log(Level.WARNING, getName() + ": a turn failed, polling on", e);
      }
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
