package io.poisonguard.report;

import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.encode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.unhex;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;

/**
 * Replaces the values of named columns by keyed hashes (HMAC-SHA256, first 16 hex digits, prefixed
 * {@value #PREFIX}) in every export: the same value gives the same token under the same key, so redacted rows can
 * still be grouped and joined, but nobody without the key can test a guess. Rows are redacted in Spark (the HMAC
 * written in built-in expressions, so it runs on the executors) and summaries on the driver; both give the same
 * token.
 *
 * <p>Values of a redacted column also appear in PoisonGuard's own columns and reasons: the id column is
 * {@code _pg_id}, the source column is {@code _pg_source} and the {@code feed=} of source reasons, the label is the
 * {@code given=} and {@code predicted=} of label reasons. Those are redacted with it.
 */
public final class Redactor {
  /** Prefix of every token, so a reader knows the value was redacted. */
  public static final String PREFIX = "redacted:";
  private static final int BLOCK = 64;
  /** Where reasons quote a class name: label evidence, and the gate's label-shift reason. */
  private static final List<Pattern> LABEL_QUOTES = List.of(
      Pattern.compile("((?:^|[:,])(?:given|predicted)=)([^,]*)"), Pattern.compile("(class ')([^']*)"));
  private static final List<Pattern> SOURCE_QUOTES = List.of(Pattern.compile("((?:^|[:,])feed=)([^,]*)"));

  private final byte[] key;
  private final Set<String> columns;
  private final boolean label;
  private final boolean source;
  private final boolean id;

  /**
   * A redactor of {@code columns} under {@code key}; {@code labelColumn}, {@code sourceColumn} and
   * {@code idColumn} (each may be null) say which of them PoisonGuard also quotes in its own columns.
   */
  public Redactor(byte[] key, List<String> columns, String labelColumn, String sourceColumn, String idColumn) {
    this.key = key.clone();
    this.columns = new LinkedHashSet<>(columns);
    this.label = labelColumn != null && this.columns.contains(labelColumn);
    this.source = sourceColumn != null && this.columns.contains(sourceColumn);
    this.id = idColumn != null && this.columns.contains(idColumn);
    if (this.source) {
      this.columns.add(io.poisonguard.spark.Columns.SOURCE);
    }
    if (this.id) {
      this.columns.add(io.poisonguard.spark.Columns.ID);
    }
  }

  /** A redactor that changes nothing. */
  public static Redactor none() {
    return new Redactor(new byte[1], List.of(), null, null, null);
  }

  /** Whether anything is redacted. */
  public boolean active() {
    return !columns.isEmpty();
  }

  /** Whether the column's values are replaced (user columns named, and the PoisonGuard columns quoting them). */
  public boolean redacts(String column) {
    return columns.contains(column);
  }

  /** The token of one value (null stays null). */
  public String token(String value) {
    if (value == null) {
      return null;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(blockKey(), "HmacSHA256"));
      return PREFIX + HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }

  /** The same token as {@link #token}, computed by Spark on the executors; the column is read as text. */
  public Column token(Column value) {
    byte[] k = blockKey();
    byte[] inner = new byte[BLOCK];
    byte[] outer = new byte[BLOCK];
    for (int i = 0; i < BLOCK; i++) {
      inner[i] = (byte) (k[i] ^ 0x36);
      outer[i] = (byte) (k[i] ^ 0x5c);
    }
    Column innerHash = unhex(sha2(concat(lit(inner), encode(value.cast("string"), "UTF-8")), 256));
    Column mac = sha2(concat(lit(outer), innerHash), 256);
    return functions.when(value.isNull(), lit(null).cast("string"))
        .otherwise(concat(lit(PREFIX), functions.substring(mac, 1, 16)));
  }

  /** A reason with the values of redacted columns it quotes replaced by their tokens. */
  public String reason(String reason) {
    String r = reason;
    for (Pattern p : label ? LABEL_QUOTES : List.<Pattern>of()) {
      r = replace(r, p);
    }
    for (Pattern p : source ? SOURCE_QUOTES : List.<Pattern>of()) {
      r = replace(r, p);
    }
    return r;
  }

  /** {@link #reason} for a column of reasons, in Spark. */
  public Column reasons(Column reasons) {
    return functions.transform(reasons, r -> {
      Column out = r;
      if (label) {
        out = replace(out, "given");
        out = replace(out, "predicted");
      }
      if (source) {
        out = replace(out, "feed");
      }
      return out;
    });
  }

  /** A class name as exports show it. */
  public String labelValue(String value) {
    return label ? token(value) : value;
  }

  /** A source name as exports show it. */
  public String sourceValue(String value) {
    return source ? token(value) : value;
  }

  private String replace(String reason, Pattern pattern) {
    Matcher m = pattern.matcher(reason);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + token(m.group(2))));
    }
    m.appendTail(out);
    return out.toString();
  }

  private Column replace(Column reason, String evidenceKey) {
    String pattern = "(?<=(^|[:,])" + evidenceKey + "=)[^,]*";
    Column value = functions.regexp_extract(reason, "(^|[:,])" + evidenceKey + "=([^,]*)", 2);
    return functions.when(functions.regexp_extract(reason, "(^|[:,])" + evidenceKey + "=", 0).equalTo(""), reason)
        .otherwise(functions.regexp_replace(reason, lit(pattern), token(value)));
  }

  /** The key zero-padded (or, when longer than a block, hashed) to one SHA-256 block, as HMAC does. */
  private byte[] blockKey() {
    byte[] k = key;
    if (k.length > BLOCK) {
      try {
        k = java.security.MessageDigest.getInstance("SHA-256").digest(k);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
      }
    }
    return java.util.Arrays.copyOf(k, BLOCK);
  }
}
