package io.poisonguard.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class CsvLineParserTest {
  private final CsvLineParser parser = new CsvLineParser(',');

  @Test
  void splitsPlainAndQuotedFields() {
    assertEquals(List.of("1", "a,b", "say \"hi\"", ""), parser.parse("1,\"a,b\",\"say \"\"hi\"\"\","));
    assertEquals(List.of(""), parser.parse(""));
    assertEquals(List.of("x", "", "y"), parser.parse("x,,y"));
  }

  @Test
  void rejectsBadQuoting() {
    assertThrows(MalformedRecordException.class, () -> parser.parse("1,\"open"));
    assertThrows(MalformedRecordException.class, () -> parser.parse("1,\"a\"b,2"));
    assertThrows(MalformedRecordException.class, () -> parser.parse("1,a\"b,2"));
  }

  @Test
  void honoursOtherDelimiters() {
    assertEquals(List.of("1", "2,5"), new CsvLineParser(';').parse("1;2,5"));
  }
}
