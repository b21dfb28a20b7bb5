package dev.tally.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.sinks.PostgresForTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local stack's logins: secrets in a 0700 folder, each file 0600 from its creation; only a
 * SCRAM verifier ever reaches the server (never the password); the auditor login reads and cannot
 * write; no login can create temporary tables or objects in the public schema.
 */
class StackLoginsTest {
  private static PostgresForTests db;
  @TempDir Path tmp;

  @BeforeAll
  static void start() throws Exception {
    db = PostgresForTests.start();
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  @Test
  void shouldKeepSecretsPrivateAndSendOnlyAVerifier() throws Exception {
    Path file = tmp.resolve("secrets/pg-auditor-password");
    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      LocalPostgres.ensureLogin(s, "tally_audit", "tally_auditor", file);
    }
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())))
        .isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
        .isEqualTo("rw-------");
    String password = Files.readString(file);
    assertThat(Secrets.readOrCreate(file)).as("stable once created").isEqualTo(password);
    assertThat(
            db.queryLong(
                "SELECT count(*) FROM pg_authid WHERE rolname = 'tally_audit'"
                    + " AND rolpassword LIKE 'SCRAM-SHA-256$%'"))
        .isEqualTo(1L);

    try (Connection auditor = DriverManager.getConnection(db.url(), "tally_audit", password);
        Statement s = auditor.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT count(*) FROM tally.ledger")) {
        assertThat(rs.next()).isTrue();
      }
      assertThatThrownBy(
              () ->
                  s.execute(
                      "INSERT INTO tally.generations (generation, max_out_of_orderness_ms,"
                          + " allowed_lateness_ms) VALUES ('x', 1, 1)"))
          .hasMessageContaining("permission denied");
      assertThatThrownBy(() -> s.execute("CREATE TEMP TABLE t (i int)"))
          .hasMessageContaining("permission denied");
      assertThatThrownBy(() -> s.execute("CREATE TABLE public.t (i int)"))
          .hasMessageContaining("permission denied");
    }
  }
}
