package io.poisonguard.spark;

/** Names of the columns PoisonGuard adds to every record; user columns never start with {@code _pg_}. */
public final class Columns {
  /** Stable record id: the input's id column, or a content hash with file and position. */
  public static final String ID = "_pg_id";
  /** Provenance of the record: the source column's value, or the input file name. */
  public static final String SOURCE = "_pg_source";
  /** The run that read the record. */
  public static final String RUN_ID = "_pg_run_id";
  /** Prepared feature vector shared by every detector (imputed, encoded, robustly scaled). */
  public static final String FEATURES = "_pg_features";
  /** Label as a class index (double), shared by every label-aware detector. */
  public static final String LABEL_INDEX = "_pg_label_index";
  /** A training row's weight in the loss (1, or a share of it for an augmented copy). */
  public static final String WEIGHT = "_pg_weight";
  /** Combined poison score in [0,1], higher is more suspect. */
  public static final String POISON_SCORE = "_pg_poison_score";
  /** True when the combined evidence crosses the configured threshold. */
  public static final String FLAGGED = "_pg_flagged";
  /** Reason codes with evidence, strongest first. */
  public static final String REASONS = "_pg_reasons";
  /** For rejected rows: the input file. */
  public static final String FILE = "_pg_file";
  /** For rejected rows: the 1-based line number in the input file (null for typed formats). */
  public static final String LINE = "_pg_line";
  /** For rejected rows: the raw text of the record. */
  public static final String RAW = "_pg_raw";
  /** For rejected rows: why the record could not be read. */
  public static final String ERROR = "_pg_error";

  /** Prefix of every column PoisonGuard owns. */
  public static final String PREFIX = "_pg_";

  private Columns() {}

  /**
   * A column by its exact name. User columns may hold dots or other characters Spark would otherwise read as
   * struct access ({@code x.box} in the Letter data); backticks make the name literal.
   */
  public static org.apache.spark.sql.Column col(String name) {
    return org.apache.spark.sql.functions.col(quote(name));
  }

  /** {@code name} quoted for Spark's column parser. */
  public static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }
}
