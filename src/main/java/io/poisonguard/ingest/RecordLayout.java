package io.poisonguard.ingest;

import io.poisonguard.spark.Columns;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The resolved columns of an input and the conversion of one raw record into a typed row. Every format's reader
 * hands its records here, so "what counts as malformed" is decided in one place: a numeric feature that does
 * not parse, an empty label, an empty id, or a wrong field count.
 */
public final class RecordLayout implements Serializable {
  private static final long serialVersionUID = 1L;
  /** PoisonGuard's own columns that lead every ingested row, in order. */
  private static final List<String> LEADING = List.of(Columns.ID, Columns.SOURCE, Columns.RUN_ID, Columns.FILE,
      Columns.LINE, Columns.RAW, Columns.ERROR);

  private final List<String> names;
  private final List<ColumnKind> kinds;
  private final int labelIndex;
  private final int idIndex;
  private final int sourceIndex;
  private final String runId;

  RecordLayout(List<String> names, List<ColumnKind> kinds, String label, String id, String source, String runId) {
    this.names = List.copyOf(names);
    this.kinds = List.copyOf(kinds);
    this.labelIndex = names.indexOf(label);
    this.idIndex = id == null ? -1 : names.indexOf(id);
    this.sourceIndex = source == null ? -1 : names.indexOf(source);
    this.runId = runId;
  }

  /** Column names of the input, in order. */
  public List<String> names() {
    return names;
  }

  /** Schema of converted rows: the leading {@code _pg_} columns, then the input's columns. */
  public StructType schema() {
    List<StructField> fields = new ArrayList<>();
    for (String c : LEADING) {
      fields.add(DataTypes.createStructField(c, c.equals(Columns.LINE) ? DataTypes.LongType : DataTypes.StringType,
          true));
    }
    for (int i = 0; i < names.size(); i++) {
      fields.add(DataTypes.createStructField(names.get(i),
          kinds.get(i) == ColumnKind.NUMERIC ? DataTypes.DoubleType : DataTypes.StringType, true));
    }
    return DataTypes.createStructType(fields);
  }

  /**
   * Converts one record. {@code values} holds one raw value per input column (String, Number, Boolean or null),
   * or is null when the record could not be split ({@code splitError} then says why). {@code line} is the 1-based
   * line or row position within {@code file}. The row is rejected (its {@code _pg_error} set) rather than thrown.
   */
  public Row convert(String file, long line, Supplier<String> raw, List<?> values, String splitError) {
    Object[] out = new Object[LEADING.size() + names.size()];
    out[2] = runId;
    out[3] = file;
    out[4] = line;
    String error = splitError;
    if (error == null && values.size() != names.size()) {
      error = "expected " + names.size() + " fields, found " + values.size();
    }
    if (error == null) {
      try {
        for (int i = 0; i < names.size(); i++) {
          out[LEADING.size() + i] = convertValue(i, values.get(i));
        }
        if (isBlank(out[LEADING.size() + labelIndex])) {
          throw new MalformedRecordException("label column '" + names.get(labelIndex) + "' is empty");
        }
        if (idIndex >= 0 && isBlank(out[LEADING.size() + idIndex])) {
          throw new MalformedRecordException("id column '" + names.get(idIndex) + "' is empty");
        }
      } catch (MalformedRecordException e) {
        error = e.getMessage();
      }
    }
    if (error != null) {
      for (int i = 0; i < names.size(); i++) {
        out[LEADING.size() + i] = null;
      }
    }
    // The raw text is kept for rejected records only: an accepted one is its typed columns, and keeping every
    // line's text twice would double the cached batch (at a million rows it no longer fits a 1 GiB driver).
    out[5] = error == null ? null : raw.get();
    out[6] = error;
    out[0] = error == null && idIndex >= 0 ? out[LEADING.size() + idIndex] : contentId(file, line, raw.get());
    Object source = error == null && sourceIndex >= 0 ? out[LEADING.size() + sourceIndex] : null;
    out[1] = isBlank(source) ? fileName(file) : source;
    return RowFactory.create(out);
  }

  private Object convertValue(int i, Object value) {
    if (value == null) {
      return null;
    }
    if (kinds.get(i) == ColumnKind.TEXT) {
      String s = value.toString();
      return s.isEmpty() ? null : s;
    }
    if (value instanceof Number number) {
      return number.doubleValue();
    }
    String s = value.toString().trim();
    if (s.isEmpty()) {
      return null;
    }
    try {
      return Double.parseDouble(s);
    } catch (NumberFormatException e) {
      throw new MalformedRecordException("column '" + names.get(i) + "': '" + abbreviate(s) + "' is not a number");
    }
  }

  private static boolean isBlank(Object value) {
    return value == null || value.toString().isBlank();
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 37) + "...";
  }

  /** Last path element of a file URI or path. */
  static String fileName(String file) {
    int slash = file.lastIndexOf('/');
    return slash >= 0 ? file.substring(slash + 1) : file;
  }

  /**
   * Stable id of a record without an id column: a hash of the file name, the position and the text. The file
   * name (not the full path) keeps ids stable when a batch folder is moved.
   */
  static String contentId(String file, long line, String raw) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update((fileName(file) + "\u0000" + line + "\u0000" + raw).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest.digest(), 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }
}
