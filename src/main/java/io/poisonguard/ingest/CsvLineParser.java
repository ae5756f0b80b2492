package io.poisonguard.ingest;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits one CSV line into fields (RFC 4180 quoting: fields may be quoted, a doubled quote inside a quoted
 * field is a literal quote). Records must fit on one line; a quote left open at the end of the line is a
 * malformed record, reported rather than joined with the next line, so one bad quote cannot swallow the
 * rest of a file.
 */
public final class CsvLineParser implements Serializable {
  private static final long serialVersionUID = 1L;
  private final char delimiter;

  /** A parser for the given field delimiter. */
  public CsvLineParser(char delimiter) {
    this.delimiter = delimiter;
  }

  /** The fields of {@code line}; throws {@link MalformedRecordException} on bad quoting. */
  public List<String> parse(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    int i = 0;
    int n = line.length();
    while (true) {
      field.setLength(0);
      if (i < n && line.charAt(i) == '"') {
        i++;
        boolean closed = false;
        while (i < n) {
          char c = line.charAt(i);
          if (c == '"') {
            if (i + 1 < n && line.charAt(i + 1) == '"') {
              field.append('"');
              i += 2;
            } else {
              closed = true;
              i++;
              break;
            }
          } else {
            field.append(c);
            i++;
          }
        }
        if (!closed) {
          throw new MalformedRecordException("unterminated quoted field " + (fields.size() + 1));
        }
        if (i < n && line.charAt(i) != delimiter) {
          throw new MalformedRecordException("unexpected text after the closing quote of field " + (fields.size() + 1));
        }
      } else {
        while (i < n && line.charAt(i) != delimiter) {
          char c = line.charAt(i);
          if (c == '"') {
            throw new MalformedRecordException("stray quote inside unquoted field " + (fields.size() + 1));
          }
          field.append(c);
          i++;
        }
      }
      fields.add(field.toString());
      if (i >= n) {
        return fields;
      }
      i++; // skip the delimiter
    }
  }
}
