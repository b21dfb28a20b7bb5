package dev.tally.savepoints;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.sinks.PostgresForTests;
import dev.tally.sinks.postgres.GenerationRegistry;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The CLI registers a generation from the job's own program arguments (not hard-coded lateness),
 * and a generation registered with other settings is refused before anything changes.
 */
class ActivateGenerationTest {
  private static PostgresForTests db;

  @BeforeAll
  static void start() throws Exception {
    db = PostgresForTests.start();
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  @Test
  void shouldRegisterTheSettingsTheJobRunsWithAndRefuseOthersLater() throws Exception {
    List<String> args =
        List.of(
            "--tally.generation", "g2",
            "--tally.allowed-lateness", "90s",
            "--tally.max-out-of-orderness", "3s",
            "--tally.breakdowns", "event:$os");
    try (Connection c = db.admin()) {
      JobSubmission.activateGeneration(c, "g2", args);
      assertThat(
              db.queryLong(
                  "SELECT allowed_lateness_ms + max_out_of_orderness_ms FROM tally.generations"
                      + " WHERE generation = 'g2' AND breakdowns = '{event:$os}'"))
          .isEqualTo(93_000L);
      JobSubmission.activateGeneration(c, "g2", args); // the same settings again: fine

      assertThatThrownBy(
              () ->
                  JobSubmission.activateGeneration(
                      c,
                      "g2",
                      List.of("--tally.generation", "g2", "--tally.allowed-lateness", "5m")))
          .hasMessageContaining("generation 'g2' is registered with")
          .hasMessageContaining("allowed-lateness 90000 ms");
      assertThat(GenerationRegistry.active(c)).isEqualTo("g2");
    }
  }
}
