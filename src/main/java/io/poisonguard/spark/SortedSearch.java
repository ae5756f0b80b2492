package io.poisonguard.spark;

/** Binary search in ascending arrays where values repeat, which {@link java.util.Arrays#binarySearch} leaves open. */
public final class SortedSearch {
  private SortedSearch() {}

  /**
   * The first position of {@code sorted} (ascending) whose value is at least {@code value}: the number of values
   * strictly below it, {@code sorted.length} when all are.
   */
  public static int firstAtLeast(double[] sorted, double value) {
    int low = 0;
    int high = sorted.length;
    while (low < high) {
      int mid = (low + high) >>> 1;
      if (sorted[mid] < value) {
        low = mid + 1;
      } else {
        high = mid;
      }
    }
    return low;
  }
}
