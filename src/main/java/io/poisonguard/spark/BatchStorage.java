package io.poisonguard.spark;

import org.apache.spark.storage.StorageLevel;

/**
 * Where batch-sized Datasets that a run reads several times are kept: on local disk only. A batch larger than the
 * memory store does not fit in it anyway, and kept in memory and on disk, each read of a block that spilled
 * first tries to cache it in memory again (the MemoryStore "Not enough space" warnings of the 10M-row scale run)
 * while holding heap the detectors need; from disk, a read is a scan that the operating system's page cache
 * serves. Measured at 1M rows in a 1 GiB heap (bench/scale): the guard took 244 s against 252 s kept in memory
 * and on disk, a gain within run-to-run noise; the reason to keep it is the heap it leaves free.
 */
public final class BatchStorage {
  /** The storage level of batch-sized Datasets read more than once. */
  public static final StorageLevel LEVEL = StorageLevel.DISK_ONLY();

  private BatchStorage() {}
}
