package dev.tally.savepoints;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link FlinkRest#submit}: upload, run, and the upload deleted whether the run worked or not. */
class FlinkRestSubmitTest {
  /** A strict fake of the three calls; any other call fails the test. */
  private static final class Jars extends TestingFlinkRest {
    final List<String> calls = new ArrayList<>();
    boolean runFails;
    boolean deleteFails;

    @Override
    public String uploadJar(Path jar) {
      calls.add("upload " + jar.getFileName());
      return "jar-7";
    }

    @Override
    public String runJar(String jarId, String entryClass, List<String> args, String savepoint)
        throws IOException {
      calls.add("run " + jarId + " " + entryClass + " " + args + " " + savepoint);
      if (runFails) {
        throw new IOException("run jar-7: the job's main() threw");
      }
      return "job-1";
    }

    @Override
    public void deleteJar(String jarId) throws IOException {
      calls.add("delete " + jarId);
      if (deleteFails) {
        throw new IOException("delete jar-7: 500");
      }
    }
  }

  @Test
  void uploadsRunsAndDeletesTheUpload() throws Exception {
    Jars flink = new Jars();
    assertThat(flink.submit(Path.of("a/job.jar"), "Main", List.of("--x", "1"), "sp"))
        .isEqualTo("job-1");
    assertThat(flink.calls)
        .containsExactly("upload job.jar", "run jar-7 Main [--x, 1] sp", "delete jar-7");
  }

  @Test
  void aFailedRunStillDeletesTheUploadAndReportsTheRunsError() {
    Jars flink = new Jars();
    flink.runFails = true;
    flink.deleteFails = true;
    assertThatThrownBy(() -> flink.submit(Path.of("job.jar"), "Main", List.of(), null))
        .hasMessage("run jar-7: the job's main() threw")
        .satisfies(e -> assertThat(e.getSuppressed()).hasSize(1));
    assertThat(flink.calls).endsWith("delete jar-7");
  }

  @Test
  void aFailedDeletionDoesNotFailASubmittedJob() throws Exception {
    Jars flink = new Jars();
    flink.deleteFails = true;
    assertThat(flink.submit(Path.of("job.jar"), "Main", List.of(), null)).isEqualTo("job-1");
  }
}
