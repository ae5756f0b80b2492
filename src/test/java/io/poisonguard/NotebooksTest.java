package io.poisonguard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executes every notebook under {@code notebooks/} headless, in order, on one fresh warehouse, with the Java kernel
 * {@code notebooks/install-kernel} sets up: a failing cell fails the test.
 */
class NotebooksTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path JUPYTER = Path.of("/usr/bin/jupyter");
  /**
   * A healthy kernel answers within seconds, even with the other test fork holding both cores; the margin is for a
   * slow machine. The start-up hangs this used to retry were two races in the kernel's polling thread, fixed by
   * {@code notebooks/kernel-patch}.
   */
  private static final int STARTUP_SECONDS = 120;

  @TempDir
  Path dir;

  @Test
  void everyNotebookRunsHeadlessOnAFreshWarehouse() throws Exception {
    assertTrue(Files.isExecutable(JUPYTER), "no " + JUPYTER + ": install Debian's jupyter-nbconvert "
        + "python3-nbconvert python3-nbclient jupyter-client jupyter-core python3-ipykernel (.ci/run does)");
    Path jupyterPath = dir.resolve("jupyter");
    Path warehouse = dir.resolve("warehouse");
    Path executed = dir.resolve("executed");
    ProcessBuilder installer = new ProcessBuilder("bash", "notebooks/install-kernel").redirectErrorStream(true)
        .redirectOutput(dir.resolve("install.log").toFile());
    installer.environment().put("JUPYTER_PATH", jupyterPath.toString());
    assertEquals(0, installer.start().waitFor(), Files.readString(dir.resolve("install.log")));
    JsonNode argv = JSON.readTree(jupyterPath.resolve("kernels/poisonguard-java/kernel.json").toFile()).get("argv");
    String kernelClasspath = "";
    for (int i = 0; i + 1 < argv.size(); i++) {
      if ("-cp".equals(argv.get(i).asText())) {
        kernelClasspath = argv.get(i + 1).asText();
      }
    }
    assertTrue(Files.isRegularFile(Path.of(kernelClasspath.split(":")[0],
        "org/rapaio/jupyter/kernel/channels/LoopThread.class")), "the patched polling thread comes first: " + argv);

    List<Path> notebooks;
    try (Stream<Path> files = Files.list(Path.of("notebooks"))) {
      notebooks = files.filter(p -> p.toString().endsWith(".ipynb")).sorted().toList();
    }
    assertTrue(notebooks.size() >= 2, "notebooks: " + notebooks);
    StringBuilder allOutput = new StringBuilder();
    for (Path notebook : notebooks) {
      execute(notebook, jupyterPath, warehouse, executed);
      JsonNode result = JSON.readTree(executed.resolve(notebook.getFileName()).toFile());
      for (JsonNode cell : result.get("cells")) {
        for (JsonNode output : cell.path("outputs")) {
          assertTrue(!"error".equals(output.path("output_type").asText()),
              notebook + ": a cell failed: " + output.path("evalue").asText());
          output.path("text").forEach(t -> allOutput.append(t.asText()));
        }
      }
    }
    String text = allOutput.toString();
    assertTrue(text.contains("rows read    4601"), "the notebooks run the pipeline");
    assertTrue(text.contains("|poison_score"), "and read the detector statistics");
    assertTrue(text.contains("released 2 row(s)"), "and release rows");
    assertTrue(text.contains("audit verified: 2 run record(s), 1 release(s) and 0 model(s)"), "and verify the trail");
  }

  private static void execute(Path notebook, Path jupyterPath, Path warehouse, Path outDir) throws Exception {
    Path log = Files.createTempFile("nbconvert", ".log");
    ProcessBuilder pb = new ProcessBuilder(JUPYTER.toString(), "nbconvert", "--to", "notebook", "--execute",
        "--ExecutePreprocessor.startup_timeout=" + STARTUP_SECONDS, "--ExecutePreprocessor.timeout=900", "--output-dir",
        outDir.toString(), notebook.toString()).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("JUPYTER_PATH", jupyterPath.toString());
    pb.environment().put("POISONGUARD_WAREHOUSE", warehouse.toString());
    Process p = pb.start();
    if (!p.waitFor(20, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new IllegalStateException(notebook + " did not finish in 20 minutes");
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Files.delete(log);
    assertEquals(0, p.exitValue(), () -> notebook + " failed:\n" + tail(out));
  }

  private static String tail(String s) {
    return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
  }
}
