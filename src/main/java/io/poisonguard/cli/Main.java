package io.poisonguard.cli;

import io.poisonguard.config.ConfigException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Entry point of {@code bin/poisonguard}: picks the sub-command, maps every failure to one line and an exit
 * code, and shows a stack trace only with {@code --verbose}.
 */
public final class Main {
  private static final List<Command> COMMANDS = List.of(new RunCommand(), new ScanCommand(), new RedteamCommand(),
      new EvaluateCommand(), new AuditCommand(), new ReleaseCommand(), new TrainCommand(), new PredictCommand());

  private Main() {}

  public static void main(String[] argv) {
    int code = run(argv, System.out, System.err);
    System.exit(code);
  }

  /** Runs a command line and returns its exit code (tests call this rather than {@link #main}). */
  public static int run(String[] argv, PrintStream out, PrintStream err) {
    boolean verbose = Arrays.asList(argv).contains("--verbose");
    Map<String, Command> byName = new LinkedHashMap<>();
    COMMANDS.forEach(c -> byName.put(c.name(), c));
    if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("help")) {
      out.print(overview(byName));
      return argv.length == 0 ? ExitCodes.USAGE : ExitCodes.OK;
    }
    Command command = byName.get(argv[0]);
    if (command == null) {
      err.println("poisonguard: unknown command '" + argv[0] + "'; commands: " + String.join(", ", byName.keySet()));
      return ExitCodes.USAGE;
    }
    String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
    if (Arrays.asList(rest).contains("--help")) {
      out.print(command.usage());
      return ExitCodes.OK;
    }
    try {
      return command.execute(rest, out);
    } catch (ConfigException e) {
      err.println("poisonguard: " + e.getMessage());
      if (verbose) {
        e.printStackTrace(err);
      }
      return ExitCodes.USAGE;
    } catch (Exception | Error e) {
      err.println("poisonguard: internal error in '" + command.name() + "': " + oneLine(e)
          + (verbose ? "" : " (rerun with --verbose for the stack trace)"));
      if (verbose) {
        e.printStackTrace(err);
      }
      return ExitCodes.INTERNAL;
    }
  }

  private static String overview(Map<String, Command> commands) {
    StringBuilder s = new StringBuilder("usage: poisonguard COMMAND [options]   (COMMAND --help for details)\n\n");
    commands.values().forEach(c -> s.append(String.format("  %-10s %s%n", c.name(), c.summary())));
    s.append("\nexit codes: 0 ok (gate pass or warn), 1 internal failure, 2 usage or configuration error, "
        + "3 gate failed, 4 audit verification failed\n");
    return s.toString();
  }

  private static String oneLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": "
        + e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
