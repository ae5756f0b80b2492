package io.poisonguard.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Small batches of the bundled Spambase file for the command tests: its header and every fourth line from a given
 * one. The file is sorted by class, so every fourth line keeps both classes; batches from different first lines
 * share no row.
 */
final class SpambaseLines {
  private SpambaseLines() {}

  /** The header, then at most {@code rows} data lines: line {@code first} (1: the first data line), every fourth. */
  static List<String> everyFourth(int first, int rows) {
    List<String> all;
    try {
      all = Files.readAllLines(Path.of("data/spambase.csv"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> lines = new ArrayList<>(List.of(all.get(0)));
    for (int i = first; i < all.size() && lines.size() <= rows; i += 4) {
      lines.add(all.get(i));
    }
    return lines;
  }
}
