package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User mistakes of {@code tally upgrade} and {@code tally check}: one line, exit 2, no trace. */
class UpgradeCommandTest {
  @TempDir Path tmp;

  private static String runErr(String... args) {
    return UsageErrors.stderrOf(args);
  }

  @Test
  void shouldRefuseBlueGreenAndMissingJarsInOneLine() throws Exception {
    Path jar = Files.createFile(tmp.resolve("new.jar"));
    String blueGreen =
        runErr("upgrade", "--job", "abc", "--jar", jar.toString(), "--strategy", "blue-green");
    assertThat(blueGreen).contains("needs --green-generation").doesNotContain("\tat ");
    assertThat(runErr("upgrade", "--job", "abc", "--jar", jar.toString(), "--strategy", "rolling"))
        .contains("in-place or blue-green");
    assertThat(
            runErr(
                "upgrade",
                "--job",
                "abc",
                "--jar",
                jar.toString(),
                "--strategy",
                "blue-green",
                "--green-generation",
                "g2",
                "--green-start",
                "snapshot"))
        .contains("--green-start must be savepoint or recount")
        .doesNotContain("\tat ");
    String missing = runErr("upgrade", "--job", "abc", "--jar", tmp.resolve("nope.jar").toString());
    assertThat(missing).contains("no such jar").doesNotContain("\tat ");
    assertThat(missing.strip().lines()).hasSize(1);
  }
}
