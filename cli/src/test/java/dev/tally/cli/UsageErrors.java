package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/** Runs the command line in-process, expects a usage error (exit 2) and returns what it printed. */
final class UsageErrors {
  private UsageErrors() {}

  static String stderrOf(String... args) {
    PrintStream err = System.err;
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    System.setErr(new PrintStream(buffer, true, StandardCharsets.UTF_8));
    try {
      assertThat(TallyCli.execute(args)).isEqualTo(2);
    } finally {
      System.setErr(err);
    }
    return buffer.toString(StandardCharsets.UTF_8);
  }
}
