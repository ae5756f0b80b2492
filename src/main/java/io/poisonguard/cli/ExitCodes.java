package io.poisonguard.cli;

/** Process exit codes every command shares; schedulers act on them. */
public final class ExitCodes {
  /** The batch passed the gate (or only warned), or the command succeeded. */
  public static final int OK = 0;
  /** Something went wrong inside PoisonGuard or Spark; the message says what. */
  public static final int INTERNAL = 1;
  /** Bad usage, pipeline file or input; the message names what to fix. */
  public static final int USAGE = 2;
  /** The gate failed: the batch is blocked and held for review. */
  public static final int GATE_FAILED = 3;
  /** {@code audit verify} found the audit trail altered, incomplete or out of step with the tables. */
  public static final int AUDIT_FAILED = 4;

  private ExitCodes() {}
}
