package io.poisonguard.cli;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The trusted rows a run measures its batch against: a file read like the batch, or the clean rows of an earlier
 * accepted run ({@code reference: last_accepted}).
 *
 * @param accepted the rows, with the batch's accepted columns
 * @param provenance what was read, for the run's audit record
 * @param origin where the rows come from, in words
 * @param release frees what reading them kept
 */
record ReferenceRows(Dataset<Row> accepted, Object provenance, String origin, Runnable release) {}
