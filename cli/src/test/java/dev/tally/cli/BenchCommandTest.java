package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** User mistakes of {@code tally bench} are refused before any stack starts: one line, exit 2. */
class BenchCommandTest {
  private static String runErr(String... args) {
    return UsageErrors.stderrOf(args);
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
