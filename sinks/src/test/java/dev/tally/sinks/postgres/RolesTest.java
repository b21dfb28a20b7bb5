package dev.tally.sinks.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.sinks.PostgresForTests;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Least privilege as the migrations define it: analysts read views only; the job cannot do DDL. */
class RolesTest {
  private static PostgresForTests db;

  @BeforeAll
  static void start() throws Exception {
    db = PostgresForTests.start();
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  private static void run(String user, String sql) throws SQLException {
    try (Connection c = db.as(user);
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  @Test
  void shouldLetAnalystsReadTheAnalyticsViews() throws Exception {
    for (String view : new String[] {"freshness", "event_counts", "breakdown_counts", "ledger"}) {
      run(PostgresForTests.ANALYST_USER, "SELECT * FROM analytics." + view);
    }
    assertThat(db.queryLong("SELECT count(*) FROM analytics.event_counts")).isZero();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "SELECT * FROM tally.event_counts",
        "SELECT * FROM tally.sink_commits",
        "INSERT INTO tally.generations (generation, max_out_of_orderness_ms, allowed_lateness_ms) VALUES ('x', 1, 1)",
        "DELETE FROM tally.ledger",
        "CREATE TABLE analytics.mine (x int)",
        "CREATE TABLE public.mine (x int)",
        "UPDATE tally.active_generation SET generation = 'x'"
      })
  void shouldForbidAnalystsToWriteOrReadTallyTables(String sql) {
    assertThatThrownBy(() -> run(PostgresForTests.ANALYST_USER, sql))
        .isInstanceOf(SQLException.class)
        .hasMessageContaining("permission denied");
  }

  @Test
  void shouldLetTheAuditorReadEverythingAndWriteNothing() throws Exception {
    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE ROLE tally_audit_login LOGIN PASSWORD '"
              + PostgresForTests.PASSWORD
              + "' IN ROLE tally_auditor");
    }
    run("tally_audit_login", "SELECT count(*) FROM tally.ledger");
    run("tally_audit_login", "SELECT count(*) FROM tally.source_offsets");
    run("tally_audit_login", "SELECT count(*) FROM analytics.freshness");
    assertThatThrownBy(() -> run("tally_audit_login", "DELETE FROM tally.ledger"))
        .hasMessageContaining("permission denied");
    assertThatThrownBy(
            () -> run("tally_audit_login", "INSERT INTO tally.generations VALUES ('x', 1, 1)"))
        .hasMessageContaining("permission denied");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "CREATE TABLE tally.mine (x int)",
        "DROP TABLE tally.event_counts",
        "UPDATE tally.event_counts SET events = 0",
        "UPDATE tally.active_generation SET generation = 'x'",
        "TRUNCATE tally.ledger"
      })
  void shouldForbidTheJobDdlUpdatesAndGenerationFlips(String sql) {
    assertThatThrownBy(() -> run(PostgresForTests.WRITER_USER, sql))
        .isInstanceOf(SQLException.class)
        .satisfiesAnyOf(
            e -> assertThat(e).hasMessageContaining("permission denied"),
            e -> assertThat(e).hasMessageContaining("must be owner"));
  }

  @ParameterizedTest
  @ValueSource(strings = {PostgresForTests.ANALYST_USER, PostgresForTests.WRITER_USER})
  void shouldLetNoLoginCreateTemporaryTablesOrObjectsInPublic(String user) {
    assertThatThrownBy(() -> run(user, "CREATE TEMP TABLE t (i int)"))
        .hasMessageContaining("permission denied");
    assertThatThrownBy(() -> run(user, "CREATE TABLE public.t (i int)"))
        .hasMessageContaining("permission denied");
  }

  @Test
  void shouldMakeEveryAnalystViewASecurityBarrier() throws Exception {
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE n.nspname = 'analytics' AND c.relkind = 'v'"
                    + " AND NOT coalesce('security_barrier=true' = ANY (c.reloptions), false)"))
        .as("analytics views without security_barrier")
        .isZero();
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE n.nspname = 'analytics' AND c.relkind = 'v'"))
        .isGreaterThanOrEqualTo(7L);
  }
}
