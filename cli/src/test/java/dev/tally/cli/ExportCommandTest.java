package dev.tally.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.sinks.PostgresForTests;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Exports only final windows, refuses partial ranges with exit 3, and stamps the output. */
class ExportCommandTest {
  private static PostgresForTests db;
  private static Instant hour;

  @BeforeAll
  static void populate() throws Exception {
    db = PostgresForTests.start();
    hour = Instant.now().truncatedTo(ChronoUnit.HOURS);
    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO tally.generations (generation, max_out_of_orderness_ms, allowed_lateness_ms) VALUES ('ex', 10000, 300000)");
      s.execute("INSERT INTO tally.active_generation (generation) VALUES ('ex')");
      s.execute(
          "INSERT INTO tally.sink_commits (generation, sink_id, subtask, checkpoint, gid, parallelism, watermark_ms, row_count)"
              + " VALUES ('ex', 'aggregates', 0, 1, 'tally_ex_aggregates_0_1', 1, "
              + (hour.toEpochMilli() - 600_000)
              + ", 0)");
      s.execute(
          "INSERT INTO tally.event_counts (generation, project, grain, window_start, event, revision, events, persons) VALUES"
              + " ('ex', 'acme', 'hour', to_timestamp("
              + (hour.toEpochMilli() / 1000 - 7200)
              + "), 'signup', 1, 5, 4),"
              + " ('ex', 'acme', 'hour', to_timestamp("
              + (hour.toEpochMilli() / 1000 - 3600)
              + "), 'signup', 1, 3, 3)");
      s.execute(
          "INSERT INTO tally.ledger (generation, project, hour, revision, consumed, aggregated, duplicates, too_late, dead_lettered)"
              + " VALUES ('ex', 'acme', to_timestamp("
              + (hour.toEpochMilli() / 1000 - 7200)
              + "), 1, 5, 5, 0, 0, 0)");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  private record Result(int exit, String out, String err) {}

  private static Result export(String... args) throws Exception {
    ExportCommand command = new ExportCommand();
    new CommandLine(command).parseArgs(args);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    try (Connection c = db.as(PostgresForTests.ANALYST_USER)) {
      int exit =
          command.export(
              c,
              ExportCommand.instant("--from", command.from),
              ExportCommand.instant("--to", command.to),
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      return new Result(
          exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
  }

  @Test
  void shouldExportFinalWindowsWithTheirFreshnessStamp() throws Exception {
    // complete_through = hour − 10 min, final_through = hour − 15 min
    Result r =
        export(
            "--project",
            "acme",
            "--from",
            hour.minusSeconds(7200).toString(),
            "--to",
            hour.minusSeconds(3600).toString());
    assertThat(r.exit()).isZero();
    assertThat(r.out().lines())
        .containsExactly(
            "project,grain,window_start,window_end,event,events,persons,final,complete_through,final_through",
            "acme,hour,"
                + hour.minusSeconds(7200)
                + ","
                + hour.minusSeconds(3600)
                + ",signup,5,4,true,"
                + hour.minusSeconds(600)
                + ","
                + hour.minusSeconds(900));
  }

  @Test
  void shouldRefuseARangeThatIsNotFinalYetWithExitCode3() throws Exception {
    Result r =
        export(
            "--project",
            "acme",
            "--from",
            hour.minusSeconds(7200).toString(),
            "--to",
            hour.toString());
    assertThat(r.exit()).isEqualTo(ExportCommand.NOT_FINAL);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).contains("data is final through " + hour.minusSeconds(900));
  }

  @Test
  void shouldMarkPartialRowsWhenAllowed() throws Exception {
    Result r =
        export(
            "--project",
            "acme",
            "--from",
            hour.minusSeconds(7200).toString(),
            "--to",
            hour.toString(),
            "--allow-partial",
            "--format",
            "json");
    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains("\"final\":true")
        .contains("\"final\":false")
        .contains("\"final_through\":\"" + hour.minusSeconds(900));
  }

  @Test
  void shouldRejectAnUnknownProject() {
    assertThatThrownBy(
            () ->
                export(
                    "--project",
                    "nope",
                    "--from",
                    hour.minusSeconds(7200).toString(),
                    "--to",
                    hour.minusSeconds(3600).toString()))
        .hasMessageContaining("unknown project 'nope'")
        .hasMessageContaining("known: acme");
  }

  @Test
  void shouldRejectBadInstantsAndReversedRangesWithExitCode2() {
    assertThat(
            TallyCli.execute(
                "export",
                "--project",
                "acme",
                "--from",
                "yesterday",
                "--to",
                "2026-11-24T00:00:00Z"))
        .isEqualTo(2);
    assertThat(
            TallyCli.execute(
                "export",
                "--project",
                "acme",
                "--from",
                "2026-11-24T00:00:00Z",
                "--to",
                "2026-11-23T00:00:00Z"))
        .isEqualTo(2);
  }
}
