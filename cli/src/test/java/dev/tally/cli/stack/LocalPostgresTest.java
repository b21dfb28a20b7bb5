package dev.tally.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local stack's PostgreSQL trusts nobody: the superuser logs in with the password of the
 * secrets folder, a stack of an older release that trusted it is closed on its next start, and no
 * password of any login reaches the server log, even with every statement logged.
 */
class LocalPostgresTest {
  @TempDir Path dir;
  private LocalPostgres postgres;

  @AfterEach
  void stop() throws Exception {
    if (postgres != null) {
      postgres.stop();
    }
  }

  private StackLayout layout() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return new StackLayout(dir, 0, 0, port, 0, 0, 0);
  }

  @Test
  void shouldRefuseTheSuperuserWithoutItsPassword() throws Exception {
    StackLayout layout = layout();
    postgres = new LocalPostgres(layout);
    postgres.start();

    assertThat(postgres.acceptsWithoutPassword()).isFalse();
    assertThatThrownBy(() -> DriverManager.getConnection(layout.jdbcUrl(), "postgres", "wrong"))
        .hasMessageContaining("password authentication failed");
    try (Connection c = postgres.admin();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getBoolean(1)).isTrue();
    }
    assertThat(LocalPostgres.trusts(Files.readString(dir.resolve("postgres/data/pg_hba.conf"))))
        .isFalse();
    assertThat(
            PosixFilePermissions.toString(
                Files.getPosixFilePermissions(layout.superuserPasswordFile())))
        .isEqualTo("rw-------");

    // and again on a restart of the same folder
    postgres.stop();
    postgres.start();
    assertThat(postgres.acceptsWithoutPassword()).isFalse();
    try (Connection c = postgres.analyst()) {
      assertThat(c.isValid(5)).isTrue();
    }
  }

  @Test
  void shouldCloseTheTrustOfAStackMadeByAnOlderRelease() throws Exception {
    StackLayout layout = layout();
    postgres = new LocalPostgres(layout);
    postgres.start();
    // what an older release left: a superuser without a password, trusted on localhost
    try (Connection c = postgres.admin();
        Statement s = c.createStatement()) {
      s.execute("ALTER USER postgres PASSWORD NULL");
    }
    postgres.stop();
    Path hba = dir.resolve("postgres/data/pg_hba.conf");
    Files.writeString(
        hba,
        String.join(
            "\n",
            "# written by ./tally stack: superuser trusted on localhost only (local stack admin),",
            "local all postgres trust",
            "host  all postgres 127.0.0.1/32 trust",
            "host  all postgres ::1/128 trust",
            "host  all all 127.0.0.1/32 scram-sha-256",
            "host  all all ::1/128 scram-sha-256",
            ""));

    postgres.start();

    assertThat(postgres.acceptsWithoutPassword()).isFalse();
    assertThat(LocalPostgres.trusts(Files.readString(hba))).isFalse();
    try (Connection c = postgres.admin()) {
      assertThat(c.isValid(5)).isTrue();
    }
  }

  @Test
  void shouldNeverWriteAPasswordToTheServerLog() throws Exception {
    StackLayout layout = layout();
    postgres =
        new LocalPostgres(
            layout, Map.of("log_statement", "all", "log_min_error_statement", "debug5"));
    postgres.start();
    try (Connection c = postgres.admin();
        Statement s = c.createStatement()) {
      // the logins are set again on every start; do it once more with everything logged
      LocalPostgres.ensureLogin(
          s, StackLayout.WRITER_USER, "tally_writer", layout.writerPasswordFile());
    }
    postgres.stop();

    String log = Files.readString(postgres.log());
    assertThat(log)
        .as("statements are logged, so a password sent in one would be seen")
        .contains("ALTER USER \"" + StackLayout.WRITER_USER + "\" PASSWORD 'SCRAM-SHA-256$");
    for (Path secret :
        List.of(
            layout.superuserPasswordFile(),
            layout.writerPasswordFile(),
            layout.analystPasswordFile(),
            layout.auditorPasswordFile())) {
      String password = Files.readString(secret).strip();
      assertThat(password).hasSizeGreaterThan(16);
      assertThat(log).as("server log holds %s", secret.getFileName()).doesNotContain(password);
    }
  }

  @Test
  void shouldTellATrustingFileFromAPasswordOnlyOne() {
    assertThat(LocalPostgres.trusts("host all postgres 127.0.0.1/32 trust\n")).isTrue();
    assertThat(LocalPostgres.trusts("local   all   all   trust")).isTrue();
    assertThat(LocalPostgres.trusts("# trust nobody\nhost all all ::1/128 scram-sha-256"))
        .isFalse();
  }
}
