package dev.tally.sinks;

import dev.tally.sinks.postgres.PostgresConnectionConfig;
import dev.tally.sinks.postgres.SchemaMigrations;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A real PostgreSQL (embedded binaries from Maven, or any server such as a container) with Tally's
 * schema migrated, a writer login {@code tally_job} and an analyst login {@code tally_reader}. For
 * tests.
 */
public final class PostgresForTests implements AutoCloseable {
  public static final String WRITER_USER = "tally_job";
  public static final String ANALYST_USER = "tally_reader";

  /** The tests' writer password travels in this JVM system property, never in a config. */
  public static final String PASSWORD = "test-secret";

  private final String host;
  private final int port;
  private final String adminPassword;
  private AutoCloseable server;
  private java.nio.file.Path dataDir;

  private PostgresForTests(String host, int port, String adminPassword, AutoCloseable server) {
    this.host = host;
    this.port = port;
    this.adminPassword = adminPassword;
    this.server = server;
  }

  public static PostgresForTests start() throws IOException, SQLException {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("tally-pg");
    EmbeddedPostgres pg = embedded(dir, 0);
    PostgresForTests db = new PostgresForTests("localhost", pg.getPort(), "postgres", pg);
    db.dataDir = dir;
    return prepare(db);
  }

  private static EmbeddedPostgres embedded(java.nio.file.Path dataDir, int port)
      throws IOException {
    EmbeddedPostgres.Builder b =
        EmbeddedPostgres.builder()
            .setDataDirectory(dataDir)
            .setCleanDataDirectory(false)
            .setServerConfig("max_prepared_transactions", "20")
            .setServerConfig("max_connections", "60");
    if (port > 0) {
      b.setPort(port);
    }
    return b.start();
  }

  /**
   * Stops the embedded server abruptly (immediate shutdown: no checkpoint, like a crash; prepared
   * transactions survive in the WAL), waits, and starts it again on the same data and port.
   */
  public void crashAndRestart(java.time.Duration downtime) throws Exception {
    if (dataDir == null) {
      throw new IllegalStateException("only the embedded server can be restarted");
    }
    long pid =
        Long.parseLong(
            java.nio.file.Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).strip());
    ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow();
    new ProcessBuilder("kill", "-QUIT", Long.toString(pid)).start().waitFor();
    postmaster.onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
    try {
      server.close(); // releases zonky's lock on the data folder; the server is already gone
    } catch (Exception ignored) {
      // stopping a dead server fails; only the lock release matters
    }
    Thread.sleep(downtime.toMillis());
    server = embedded(dataDir, port);
  }

  /** Any PostgreSQL server reachable at host:port with superuser postgres (e.g. a container). */
  public static PostgresForTests external(
      String host, int port, String adminPassword, AutoCloseable server) throws SQLException {
    return prepare(new PostgresForTests(host, port, adminPassword, server));
  }

  private static PostgresForTests prepare(PostgresForTests db) throws SQLException {
    SchemaMigrations.migrate(db.adminUrl(), "postgres", db.adminPassword);
    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE ROLE " + WRITER_USER + " LOGIN PASSWORD '" + PASSWORD + "' IN ROLE tally_writer");
      s.execute(
          "CREATE ROLE "
              + ANALYST_USER
              + " LOGIN PASSWORD '"
              + PASSWORD
              + "' IN ROLE tally_analyst");
    }
    return db;
  }

  public String adminUrl() {
    return url();
  }

  public String url() {
    return "jdbc:postgresql://" + host + ":" + port + "/postgres";
  }

  public int port() {
    return port;
  }

  public Connection admin() throws SQLException {
    return DriverManager.getConnection(adminUrl(), "postgres", adminPassword);
  }

  public Connection as(String user) throws SQLException {
    return DriverManager.getConnection(url(), user, PASSWORD);
  }

  /** The writer's connection settings; the password is read from a file written for the test. */
  public PostgresConnectionConfig writerConfig(java.nio.file.Path passwordFile) throws IOException {
    java.nio.file.Files.writeString(passwordFile, PASSWORD);
    return new PostgresConnectionConfig(url(), WRITER_USER, null, passwordFile.toString());
  }

  /**
   * The server's prepared transactions, every database's, with the database suffix of Tally's gids
   * ({@code _d<oid>}) dropped so tests can name them; {@link #preparedTransactionsAsStored} keeps
   * it.
   */
  public List<String> preparedTransactions() throws SQLException {
    return preparedTransactionsAsStored().stream().map(g -> g.replaceAll("_d\\d+$", "")).toList();
  }

  public List<String> preparedTransactionsAsStored() throws SQLException {
    List<String> gids = new ArrayList<>();
    try (Connection c = admin();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT gid FROM pg_prepared_xacts ORDER BY gid")) {
      while (rs.next()) {
        gids.add(rs.getString(1));
      }
    }
    return gids;
  }

  /** Runs one statement as the superuser. */
  public void execute(String sql) throws SQLException {
    try (Connection c = admin();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  public long queryLong(String sql) throws SQLException {
    try (Connection c = admin();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Removes all Tally data between tests (keeps schema and roles). */
  public void truncate() throws SQLException {
    try (Connection c = admin();
        Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT gid FROM pg_prepared_xacts")) {
        List<String> gids = new ArrayList<>();
        while (rs.next()) {
          gids.add(rs.getString(1));
        }
        for (String gid : gids) {
          s.execute("ROLLBACK PREPARED '" + gid.replace("'", "''") + "'");
        }
      }
      s.execute(
          "TRUNCATE tally.event_counts, tally.breakdown_counts, tally.ledger, tally.sink_commits, tally.source_offsets, tally.daily_active, tally.ingestion_warnings,"
              + " tally.compaction_holds, tally.generation_inheritance,"
              + " tally.active_generation, tally.generations CASCADE");
    }
  }

  @Override
  public void close() throws IOException {
    try {
      server.close();
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }
}
