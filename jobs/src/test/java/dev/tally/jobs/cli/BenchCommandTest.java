package dev.tally.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** User mistakes of {@code tally bench} are refused before any stack starts: one line, exit 2. */
class BenchCommandTest {
  private static String runErr(String... args) {
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

  @Test
  void shouldRefuseANonPositiveLiveRateAndUnknownPhasesInOneLine() {
    String zero = runErr("bench", "--live-rate", "0");
    assertThat(zero).contains("--live-rate must be a positive").doesNotContain("\tat ");
    assertThat(zero.strip().lines()).hasSize(1);
    assertThat(runErr("bench", "--live-rate", "-5")).contains("--live-rate must be a positive");
    assertThat(runErr("bench", "--phases", "pipeline,warp")).contains("unknown phase 'warp'");
  }
}
