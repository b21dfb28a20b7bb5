package dev.tally.sinks.postgres;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;

/**
 * How to reach PostgreSQL. The password is never part of the configuration: it is read where the
 * connection is opened, from the environment variable or file named here (secrets never travel in
 * job graphs, command lines or logs).
 *
 * @param jdbcUrl e.g. {@code jdbc:postgresql://localhost:5432/tally}
 * @param user the login role (member of {@code tally_writer} for the job)
 * @param passwordEnv name of the environment variable holding the password, or null
 * @param passwordFile path of a file holding the password, or null
 */
public record PostgresConnectionConfig(
    String jdbcUrl, String user, String passwordEnv, String passwordFile) implements Serializable {

  /**
   * Loaded on the first connection, not with this class: the JobManager builds the job graph (and
   * so this config) without ever connecting, and loading the driver there registered it with
   * DriverManager and leaked that job's class loader (docs/performance.md finding 17).
   */
  private static final class DriverHolder {
    static final java.sql.Driver DRIVER = new org.postgresql.Driver();
  }

  /** Longest wait for a connection and its login. */
  public static final java.time.Duration CONNECT_TIMEOUT = java.time.Duration.ofSeconds(10);

  /** Longest statement the server runs for Tally (a prepare's batch, a compaction delete). */
  public static final java.time.Duration STATEMENT_TIMEOUT = java.time.Duration.ofSeconds(60);

  /** Longest wait for any answer from the server: above the statement timeout. */
  public static final java.time.Duration SOCKET_TIMEOUT = java.time.Duration.ofSeconds(90);

  public Connection open() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    String password = password();
    if (password != null) {
      props.setProperty("password", password);
    }
    props.setProperty("ApplicationName", "tally");
    // Every wait on the server is bounded: a half-open connection (a server that vanished without
    // a FIN, a network partition) otherwise hangs the sink's task thread — and with it every
    // checkpoint — until the TaskManager is killed. A statement longer than the limit fails the
    // transaction; the job restarts from its checkpoint instead of waiting forever.
    props.setProperty("connectTimeout", Long.toString(CONNECT_TIMEOUT.toSeconds()));
    props.setProperty("loginTimeout", Long.toString(CONNECT_TIMEOUT.toSeconds()));
    props.setProperty("socketTimeout", Long.toString(SOCKET_TIMEOUT.toSeconds()));
    props.setProperty("options", "-c statement_timeout=" + STATEMENT_TIMEOUT.toMillis());
    props.setProperty("tcpKeepAlive", "true");
    // The driver directly, not DriverManager: on a session cluster DriverManager only knows the
    // driver as registered by the first job's class loader, so a later job (a restart, the next
    // generation) failed with "No suitable driver" (seen in ./tally bench).
    Connection c = DriverHolder.DRIVER.connect(jdbcUrl, props);
    if (c == null) {
      throw new SQLException("not a PostgreSQL JDBC URL: " + jdbcUrl);
    }
    return c;
  }

  /**
   * Deregisters the driver that loading {@code org.postgresql.Driver} registered with {@code
   * DriverManager}, when this code runs in a job's own class loader (a Flink session cluster):
   * DriverManager is a JDK class, so its reference to the driver kept every finished job's class
   * loader and classes alive — the JobManager and TaskManager died of Metaspace after about twelve
   * jobs (docs/performance.md finding 17). Tally never connects through DriverManager, so this is
   * safe while other subtasks of the job still run. In the launcher and in tests (the application
   * class loader) nothing is deregistered.
   */
  static void releaseDriverOfThisJob() {
    ClassLoader ours = PostgresConnectionConfig.class.getClassLoader();
    if (ours == ClassLoader.getSystemClassLoader()) {
      return;
    }
    for (java.sql.Driver d : java.util.Collections.list(java.sql.DriverManager.getDrivers())) {
      if (d.getClass().getClassLoader() == ours) {
        try {
          java.sql.DriverManager.deregisterDriver(d);
        } catch (SQLException ignored) {
          // nothing else to do
        }
      }
    }
  }

  private String password() {
    if (passwordFile != null && !passwordFile.isEmpty()) {
      try {
        return Files.readString(Path.of(passwordFile), StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new IllegalStateException(
            "cannot read the PostgreSQL password file " + passwordFile, e);
      }
    }
    if (passwordEnv != null && !passwordEnv.isEmpty()) {
      return System.getenv(passwordEnv);
    }
    return null;
  }

  @Override
  public String toString() {
    return "PostgresConnectionConfig{" + jdbcUrl + " as " + user + "}";
  }
}
