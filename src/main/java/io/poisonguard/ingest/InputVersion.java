package io.poisonguard.ingest;

/**
 * One input a run read, identified well enough to replay the run: a Delta table version, or a file's size and
 * modification time.
 *
 * @param path the table or file
 * @param format csv, json, parquet or delta
 * @param deltaVersion the Delta version read, or -1 for files
 * @param bytes file size, or -1 for tables
 * @param modifiedMillis file modification time (epoch milliseconds), or -1 for tables
 */
public record InputVersion(String path, String format, long deltaVersion, long bytes, long modifiedMillis) {}
