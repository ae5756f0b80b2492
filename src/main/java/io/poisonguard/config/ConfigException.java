package io.poisonguard.config;

/**
 * A problem with what the user asked for (pipeline file, flag, input column) that the user can fix.
 * The message is one line that names the file, key or column and says what to do; the CLI prints it
 * without a stack trace and exits with code 2.
 */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
