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
import java.util.regex.Pattern;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The resolved columns of an input and the conversion of one raw record into a typed row. Every format's reader
 * hands its records here, so "what counts as malformed" is decided in one place: a numeric feature that does
 * not parse, an empty label, an empty id, or a wrong field count. Typed inputs (Parquet, Delta) whose numeric
 * columns hold numbers are converted by {@link #convertColumns}: the same rules as Spark expressions.
 */
public final class RecordLayout implements Serializable {
  private static final long serialVersionUID = 1L;
  /** PoisonGuard's own columns that lead every ingested row, in order. */
  private static final List<String> LEADING = List.of(Columns.ID, Columns.SOURCE, Columns.RUN_ID, Columns.FILE,
      Columns.LINE, Columns.RAW, Columns.ERROR);
  /**
   * A whole value of only the characters {@link String#isBlank} counts as white space (a Java regular expression,
   * as Spark's {@code rlike} reads it).
   */
  private static final String BLANK =
      "^[\\t\\n\\x0B\\f\\r\\x1C-\\x1F\\p{Zs}\\p{Zl}\\p{Zp}&&[^\\u00A0\\u2007\\u202F]]*$";

  /** The end of the error of an infinite number, after its column and value. */
  private static final String NOT_FINITE =
      "' is not a finite number; write a finite value, or leave the field empty for a missing one";
  /** What {@link #parseNumber} reads as a number. */
  private static final Pattern DECIMAL =
      Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?|NaN|[+-]?Infinity");

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

  /**
   * Whether {@link #convertColumns} can convert an input of this schema: every numeric column holds numbers
   * already. Text to parse as numbers goes through {@link #convert}, whose parser decides what is a number.
   */
  public boolean convertsByExpression(StructType input) {
    for (int i = 0; i < names.size(); i++) {
      if (kinds.get(i) == ColumnKind.NUMERIC && !(input.apply(names.get(i)).dataType() instanceof NumericType)) {
        return false;
      }
    }
    return true;
  }

  /**
   * What {@link #convert} makes of every record of a typed input whose numeric columns hold numbers
   * ({@link #convertsByExpression}), as Spark expressions over its columns: the rows of {@link #schema}, with the
   * same checks (the label and the id must not be blank) and the same errors, without turning each record into
   * Java objects and back.
   *
   * @param input the input's schema
   * @param file each record's file
   * @param line each record's 1-based position within its file
   * @param raw each record's text as {@link #convert} is given it; read only for rejected records, and for their
   *     content ids when the input has no id column
   */
  public Column[] convertColumns(StructType input, Column file, Column line, Column raw) {
    if (!convertsByExpression(input)) {
      throw new IllegalArgumentException("a numeric column holds text to parse; convert its records one by one");
    }
    Column[] values = new Column[names.size()];
    for (int i = 0; i < names.size(); i++) {
      Column in = Columns.col(names.get(i));
      DataType type = input.apply(names.get(i)).dataType();
      if (kinds.get(i) == ColumnKind.NUMERIC) {
        values[i] = in.cast(DataTypes.DoubleType);
      } else if (type.equals(DataTypes.StringType)) {
        values[i] = functions.nullif(in, functions.lit(""));
      } else if (type instanceof IntegralType || type instanceof BooleanType) {
        // Spark prints these as Java does
        values[i] = in.cast(DataTypes.StringType);
      } else {
        values[i] = functions.udf((UDF1<Object, String>) v -> v == null ? null : v.toString(), DataTypes.StringType)
            .apply(in);
      }
    }
    Column error = functions.when(blank(values[labelIndex]),
        functions.lit("label column '" + names.get(labelIndex) + "' is empty"));
    if (idIndex >= 0) {
      error = error.when(blank(values[idIndex]), functions.lit("id column '" + names.get(idIndex) + "' is empty"));
    }
    for (int i = 0; i < names.size(); i++) {
      if (kinds.get(i) == ColumnKind.NUMERIC) {
        Column infinite = values[i].equalTo(functions.lit(Double.POSITIVE_INFINITY))
            .or(values[i].equalTo(functions.lit(Double.NEGATIVE_INFINITY)));
        error = error.when(infinite, functions.concat(functions.lit("column '" + names.get(i) + "': '"),
            values[i].cast(DataTypes.StringType), functions.lit(NOT_FINITE)));
      }
    }
    Column accepted = error.isNull();
    Column fileName = functions.substring_index(file, "/", -1);
    Column contentId = contentId(file, line, raw);
    Column id = idIndex >= 0 ? functions.when(accepted, values[idIndex]).otherwise(contentId) : contentId;
    Column source = sourceIndex >= 0 ? functions.when(accepted, values[sourceIndex]) : functions.lit(null);
    List<Column> out = new ArrayList<>(List.of(id.as(Columns.ID),
        functions.when(blank(source), fileName).otherwise(source).as(Columns.SOURCE),
        functions.lit(runId).as(Columns.RUN_ID), file.as(Columns.FILE), line.cast(DataTypes.LongType).as(Columns.LINE),
        functions.when(error.isNotNull(), raw).as(Columns.RAW), error.as(Columns.ERROR)));
    for (int i = 0; i < names.size(); i++) {
      DataType typed = kinds.get(i) == ColumnKind.NUMERIC ? DataTypes.DoubleType : DataTypes.StringType;
      out.add(functions.when(accepted, values[i]).cast(typed).as(names.get(i)));
    }
    return out.toArray(Column[]::new);
  }

  /** Whether a text value is null or blank, as {@link #isBlank} decides for a converted value. */
  private static Column blank(Column text) {
    return text.isNull().or(text.rlike(BLANK));
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
      return finite(i, number.doubleValue(), value.toString());
    }
    String s = value.toString().trim();
    if (s.isEmpty()) {
      return null;
    }
    Double parsed = parseNumber(s);
    if (parsed == null) {
      throw new MalformedRecordException("column '" + names.get(i) + "': '" + abbreviate(s) + "' is not a number");
    }
    return finite(i, parsed, s);
  }

  /** {@code value}, or a rejection when it is infinite: NaN reads as a missing value, infinity as nothing. */
  private Double finite(int i, double value, String text) {
    if (Double.isInfinite(value)) {
      throw new MalformedRecordException("column '" + names.get(i) + "': '" + abbreviate(text) + NOT_FINITE);
    }
    return value;
  }

  /**
   * A decimal number ({@code 12}, {@code -0.5}, {@code 1e3}, {@code NaN}, {@code -Infinity}), or null for any other
   * text: Java's own parser also takes type suffixes ({@code 1d}, {@code 2f}) and hexadecimal ({@code 0x1p3}),
   * which a data file never means as numbers. Infinities parse, to be rejected as infinite rather than as text.
   */
  static Double parseNumber(String text) {
    if (!DECIMAL.matcher(text).matches()) {
      return null;
    }
    return Double.parseDouble(text);
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

  /** {@link #contentId(String, long, String)} as a column expression, from the file's path, the line and the text. */
  static Column contentId(Column file, Column line, Column raw) {
    return hashedId(functions.substring_index(file, "/", -1), line, raw);
  }

  /**
   * The id of a record that repeats another's: as {@link #contentId(Column, Column, Column)}, from the file's full
   * path instead of its name, so that it differs from the repeated record's.
   */
  static Column pathId(Column file, Column line, Column raw) {
    return hashedId(file, line, raw);
  }

  private static Column hashedId(Column file, Column line, Column raw) {
    return functions.substring(functions.sha2(functions.concat(file, functions.lit("\u0000"),
        line.cast(DataTypes.StringType), functions.lit("\u0000"), raw), 256), 1, 32);
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
