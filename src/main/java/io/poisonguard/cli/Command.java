package io.poisonguard.cli;

/** One {@code poisonguard} sub-command. */
public interface Command {
  /** The word that selects the command, e.g. {@code run}. */
  String name();

  /** One line for the command list. */
  String summary();

  /** Full usage text for {@code --help}. */
  String usage();

  /**
   * Runs the command with its arguments (the command word removed), printing results to {@code out}; returns the
   * process exit code.
   */
  int execute(String[] args, java.io.PrintStream out) throws Exception;
}
