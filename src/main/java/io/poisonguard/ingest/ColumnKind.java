package io.poisonguard.ingest;

/** How an input column is read. */
public enum ColumnKind {
  /** A numeric feature, read as a double; empty means missing. */
  NUMERIC,
  /** A categorical feature or any other kept column, read as a string. */
  TEXT
}
