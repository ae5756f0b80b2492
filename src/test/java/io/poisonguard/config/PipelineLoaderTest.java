package io.poisonguard.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelineLoaderTest {
  @TempDir
  Path dir;

  private Path write(String yaml) throws IOException {
    Path file = dir.resolve("p.yaml");
    Files.writeString(file, yaml);
    return file;
  }

  @Test
  void quickstartLoadsWithDefaults() {
    PipelineLoader.Loaded loaded = PipelineLoader.load(Path.of("pipelines/quickstart.yaml"), List.of());
    PipelineConfig c = loaded.config();
    assertEquals("quickstart", c.name());
    assertEquals("type", c.input().label());
    assertEquals("csv", c.input().format());
    assertEquals(0.01, c.detect().targetFpr());
    assertEquals(64, loaded.sha256().length());
  }

  @Test
  void overridesReplaceValuesAndChangeTheHash() {
    PipelineLoader.Loaded plain = PipelineLoader.load(Path.of("pipelines/quickstart.yaml"), List.of());
    PipelineLoader.Loaded set = PipelineLoader.load(Path.of("pipelines/quickstart.yaml"),
        List.of("gate.max_quarantine_fraction=0", "input.path=/tmp/other.csv", "detect.detectors.robust_z.enabled=false"));
    assertEquals(0.0, set.config().gate().maxQuarantineFraction());
    assertEquals("/tmp/other.csv", set.config().input().path());
    assertEquals(false, set.config().detect().detectors().get("robust_z").get("enabled"));
    assertTrue(!plain.sha256().equals(set.sha256()));
  }

  @Test
  void unknownKeyIsNamedWithItsPath() throws IOException {
    Path file = write("name: t\ninput: {path: a.csv, label: y}\ngate: {max_quarantine_fractio: 0.1}\n");
    ConfigException e = assertThrows(ConfigException.class, () -> PipelineLoader.load(file, List.of()));
    assertTrue(e.getMessage().startsWith(file + ": unknown key 'gate.max_quarantine_fractio'"), e.getMessage());
    assertTrue(e.getMessage().contains("max_quarantine_fraction"), "lists the known keys: " + e.getMessage());
  }

  @Test
  void unknownOverrideKeyIsAnError() {
    ConfigException e = assertThrows(ConfigException.class,
        () -> PipelineLoader.load(Path.of("pipelines/quickstart.yaml"), List.of("gate.nope=1")));
    assertTrue(e.getMessage().contains("unknown key 'gate.nope'"), e.getMessage());
  }

  @Test
  void wrongTypesMissingKeysAndBadValuesAreNamed() throws IOException {
    ConfigException type = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: {path: a.csv, label: y}\ngate: {max_psi: high}\n"), List.of()));
    assertTrue(type.getMessage().contains("'gate.max_psi'") && type.getMessage().contains("a number"),
        type.getMessage());
    ConfigException missing = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: {path: a.csv}\n"), List.of()));
    assertTrue(missing.getMessage().contains("input.label"), missing.getMessage());
    ConfigException range = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: {path: a.csv, label: y}\ngate: {max_quarantine_fraction: 3}\n"), List.of()));
    assertTrue(range.getMessage().contains("gate.max_quarantine_fraction"), range.getMessage());
    ConfigException format = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: {path: a.csv, label: y, format: xls}\n"), List.of()));
    assertTrue(format.getMessage().contains("input.format"), format.getMessage());
    ConfigException option = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: {path: a.csv, label: y, options: {header: false}}\n"), List.of()));
    assertTrue(option.getMessage().endsWith(": input.options.header: not an option of the csv reader; csv takes "
        + "delimiter"), option.getMessage());
    ConfigException parquetOption = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: {path: a, format: parquet, label: y, options: {delimiter: ';'}}\n"), List.of()));
    assertTrue(parquetOption.getMessage().contains(": input.options.delimiter: not an option of the parquet reader"),
        parquetOption.getMessage());
    ConfigException delimiter = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: {path: a.csv, label: y, options: {delimiter: ''}}\n"), List.of()));
    assertTrue(delimiter.getMessage().contains(": input.options.delimiter: '' is not one character"),
        delimiter.getMessage());
    assertEquals("\t", PipelineLoader.load(write("name: t\ninput: {path: a.csv, label: y, options: {delimiter: "
        + "\"\\t\"}}\n"), List.of()).config().input().options().get("delimiter"));
    ConfigException syntax = assertThrows(ConfigException.class, () -> PipelineLoader.load(
        write("name: t\ninput: [\n"), List.of()));
    assertTrue(syntax.getMessage().contains("not valid YAML"), syntax.getMessage());
  }

  /**
   * {@code detect.contamination} is off by default and takes {@code auto}, {@code off} or a share in (0, 0.5], from
   * the file or from {@code --set}; anything else is an error that names the key.
   */
  @Test
  void contaminationIsOffByDefaultAutoOrAShare() throws IOException {
    String base = "name: t\ninput: {path: a.csv, label: y}\n";
    assertEquals(Contamination.OFF, PipelineLoader.load(write(base), List.of()).config().detect().contamination());
    assertEquals(Contamination.ESTIMATED, PipelineLoader.load(write(base + "detect: {contamination: auto}\n"),
        List.of()).config().detect().contamination());
    Contamination share = PipelineLoader.load(write(base), List.of("detect.contamination=0.05")).config().detect()
        .contamination();
    assertEquals(Contamination.Mode.FIXED, share.mode());
    assertEquals(0.05, share.share());
    assertEquals("0.05", share.describe());
    // quoted, and unquoted (which YAML 1.1 reads as false)
    for (String off : List.of("'off'", "off")) {
      assertEquals(Contamination.OFF, PipelineLoader.load(write(base + "detect: {contamination: " + off + "}\n"),
          List.of()).config().detect().contamination());
    }
    for (String bad : List.of("0.7", "0", "lots")) {
      ConfigException e = assertThrows(ConfigException.class, () -> PipelineLoader.load(
          write(base + "detect: {contamination: " + bad + "}\n"), List.of()));
      assertTrue(e.getMessage().contains("detect.contamination") && e.getMessage().contains("auto"),
          e.getMessage());
    }
  }
}
