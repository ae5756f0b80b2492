package io.poisonguard.ingest;

/** A record that cannot be read as the schema says; its message becomes the rejected row's error. */
public final class MalformedRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** A malformed record described by {@code message}. */
  public MalformedRecordException(String message) {
    super(message, null, false, false);
  }
}
