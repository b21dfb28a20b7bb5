package dev.tally.sinks.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.sinks.PostgresForTests;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every connection Tally opens bounds its waits: connect, login, each statement, each read. */
class PostgresConnectionConfigTest {
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
  void shouldBoundEveryStatementAndEveryReadOnTheServer() throws Exception {
    Path pw = Files.createTempFile("pw", "");
    try (Connection c = db.writerConfig(pw).open();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW statement_timeout")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("1min");
      assertThat(c.getNetworkTimeout())
          .isEqualTo((int) PostgresConnectionConfig.SOCKET_TIMEOUT.toMillis());
    }
  }

  @Test
  void shouldGiveUpOnAServerThatAcceptsButNeverAnswers() throws Exception {
    List<Socket> accepted = new ArrayList<>();
    try (ServerSocket silent = new ServerSocket(0)) {
      Thread acceptor =
          new Thread(
              () -> {
                try {
                  while (true) {
                    accepted.add(silent.accept()); // and never a byte back
                  }
                } catch (Exception closed) {
                  // the test is over
                }
              });
      acceptor.setDaemon(true);
      acceptor.start();
      PostgresConnectionConfig config =
          new PostgresConnectionConfig(
              "jdbc:postgresql://localhost:" + silent.getLocalPort() + "/tally", "u", null, null);
      long start = System.nanoTime();
      assertThatThrownBy(config::open).isInstanceOf(SQLException.class);
      assertThat((System.nanoTime() - start) / 1_000_000_000.0)
          .isLessThan(PostgresConnectionConfig.CONNECT_TIMEOUT.toSeconds() + 5.0);
    } finally {
      for (Socket s : accepted) {
        s.close();
      }
    }
  }
}
