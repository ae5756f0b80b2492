package io.poisonguard.cli;

import io.poisonguard.config.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of one command: {@code --name value} pairs, repeatable options and switches, checked
 * against what the command declares so a typo is an error rather than silently ignored.
 */
public final class Args {
  private final String command;
  private final Map<String, List<String>> values = new LinkedHashMap<>();
  private final List<String> positional = new ArrayList<>();

  private Args(String command) {
    this.command = command;
  }

  /**
   * Parses {@code argv}. {@code options} take a value, {@code switches} do not; {@code --verbose} and
   * {@code --help} are always allowed.
   */
  public static Args parse(String command, String[] argv, Set<String> options, Set<String> switches) {
    Args args = new Args(command);
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      if (a.startsWith("--")) {
        String name = a.substring(2);
        String inline = null;
        int eq = name.indexOf('=');
        if (eq > 0 && options.contains(name.substring(0, eq))) {
          inline = name.substring(eq + 1);
          name = name.substring(0, eq);
        }
        if (switches.contains(name) || name.equals("verbose") || name.equals("help")) {
          args.values.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
        } else if (options.contains(name)) {
          String value = inline;
          if (value == null) {
            if (i + 1 >= argv.length) {
              throw new ConfigException(command + ": option --" + name + " needs a value");
            }
            value = argv[++i];
          }
          args.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        } else {
          throw new ConfigException(command + ": unknown option " + a + "; see 'poisonguard " + command + " --help'");
        }
      } else {
        args.positional.add(a);
      }
    }
    return args;
  }

  /** The option's last value, or null. */
  public String get(String name) {
    List<String> v = values.get(name);
    return v == null ? null : v.get(v.size() - 1);
  }

  /** The option's last value, or {@code fallback}. */
  public String get(String name, String fallback) {
    String v = get(name);
    return v == null ? fallback : v;
  }

  /** The option's value; a usage error naming the option when it is missing. */
  public String require(String name) {
    String v = get(name);
    if (v == null) {
      throw new ConfigException(command + ": option --" + name + " is required; see 'poisonguard " + command
          + " --help'");
    }
    return v;
  }

  /** Every value of a repeatable option, in order. */
  public List<String> all(String name) {
    return values.getOrDefault(name, List.of());
  }

  /** True when a switch was given. */
  public boolean has(String name) {
    return values.containsKey(name);
  }

  /** Arguments that are not options, in order. */
  public List<String> positional() {
    return List.copyOf(positional);
  }

  /** A number option, with a usage error naming the option when it does not parse. */
  public double getDouble(String name, double fallback) {
    String v = get(name);
    if (v == null) {
      return fallback;
    }
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new ConfigException(command + ": option --" + name + " expects a number, got '" + v + "'");
    }
  }

  /** A whole-number option, with a usage error naming the option when it does not parse. */
  public long getLong(String name, long fallback) {
    String v = get(name);
    if (v == null) {
      return fallback;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new ConfigException(command + ": option --" + name + " expects a whole number, got '" + v + "'");
    }
  }
}
