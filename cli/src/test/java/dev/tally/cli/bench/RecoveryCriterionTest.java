package dev.tally.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.sinks.PostgresForTests;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Timestamp;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's recovery phase counts a job as recovered only once every subtask of its aggregate
 * sink has committed again after the kill (real PostgreSQL): a restart so fast that staleness never
 * left the steady p99 is still timed, and commits from before the kill never count.
 */
class RecoveryCriterionTest {
  private static PostgresForTests db;
  private static final long KILL_MS = 1_800_000_000_000L;

  @BeforeAll
  static void start() throws Exception {
    db = PostgresForTests.start();
    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO tally.generations (generation, max_out_of_orderness_ms, allowed_lateness_ms)"
              + " VALUES ('rec', 10000, 300000)");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  private static void commit(Connection c, int subtask, long checkpoint, long preparedAtMs)
      throws Exception {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO tally.sink_commits (generation, sink_id, subtask, checkpoint, gid,"
                + " parallelism, watermark_ms, row_count, prepared_at)"
                + " VALUES ('rec', 'aggregates', ?, ?, ?, 2, ?, 0, ?)")) {
      ps.setInt(1, subtask);
      ps.setLong(2, checkpoint);
      ps.setString(3, "tally_rec_aggregates_" + subtask + "_" + checkpoint);
      ps.setLong(4, preparedAtMs - 8_000);
      ps.setTimestamp(5, new Timestamp(preparedAtMs));
      ps.executeUpdate();
    }
  }

  @Test
  void shouldCountRecoveryOnlyOnceEverySinkSubtaskCommittedAfterTheKill() throws Exception {
    Timestamp killedAt = new Timestamp(KILL_MS);
    try (Connection c = db.admin()) {
      commit(c, 0, 1, KILL_MS - 2_000);
      commit(c, 1, 1, KILL_MS - 1_500);
      assertThat(Bench.allSubtasksCommittedSince(c, "rec", killedAt))
          .as("commits from before the kill")
          .isFalse();

      commit(c, 0, 2, KILL_MS + 9_000);
      assertThat(Bench.allSubtasksCommittedSince(c, "rec", killedAt))
          .as("only subtask 0 committed after the kill")
          .isFalse();

      commit(c, 1, 2, KILL_MS + 9_100);
      assertThat(Bench.allSubtasksCommittedSince(c, "rec", killedAt)).isTrue();
      assertThat(Bench.allSubtasksCommittedSince(c, "other-generation", killedAt)).isFalse();
    }
  }
}
