package dev.tally.cli.stack;

import dev.tally.savepoints.Poll;
import dev.tally.sinks.postgres.SchemaMigrations;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The local stack's PostgreSQL 17 (embedded binaries): no role is trusted, the superuser included.
 * Every login's password lives in the stack's secrets folder (0700, files 0600 from creation) and
 * reaches the server only as a SCRAM verifier or, for the superuser of a new data folder, through
 * initdb's {@code --pwfile} — never in a statement, so never in a server log.
 */
final class LocalPostgres {
  static final String SUPERUSER = "postgres";

  private final StackLayout layout;
  private final Map<String, String> extraServerConfig;

  /** The server this object started, if it did: holds the data folder's lock in this JVM. */
  private EmbeddedPostgres started;

  LocalPostgres(StackLayout layout) {
    this(layout, Map.of());
  }

  /** With server settings for tests (e.g. {@code log_statement=all}). */
  LocalPostgres(StackLayout layout, Map<String, String> extraServerConfig) {
    this.layout = layout;
    this.extraServerConfig = Map.copyOf(extraServerConfig);
  }

  private Path data() {
    return layout.dir().resolve("postgres/data");
  }

  private Path binaries() {
    return layout.dir().resolve("postgres/bin");
  }

  Path log() {
    return layout.logs().resolve("postgres.log");
  }

  void start() throws Exception {
    Files.createDirectories(binaries());
    Files.createDirectories(layout.logs());
    Path passwordFile = layout.superuserPasswordFile();
    String password = Secrets.readOrCreate(passwordFile);
    // initdb runs only for a new folder; an existing one may come from a release that trusted
    boolean initialized = Files.isRegularFile(data().resolve("postgresql.conf"));
    boolean[] legacy = {false};
    EmbeddedPostgres.Builder builder =
        EmbeddedPostgres.builder()
            .setDataDirectory(data())
            .setCleanDataDirectory(false)
            .setRegisterShutdownHook(false) // the server outlives this command; `down` stops it
            .setOverrideWorkingDirectory(binaries().toFile())
            .setPort(layout.postgresPort())
            // a new data folder gets its superuser password from the file, at initdb
            .setLocaleConfig("pwfile", passwordFile.toString())
            // the embedded library's readiness check logs in as the superuser
            .setConnectConfig("password", password)
            .setServerConfig("max_prepared_transactions", "32")
            .setServerConfig("max_connections", "100")
            .setServerConfig("listen_addresses", "localhost")
            .setDataDirectoryCustomizer(dir -> legacy[0] = writeHba(dir.toPath(), initialized))
            .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log().toFile()))
            .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log().toFile()))
            .setPGStartupWait(Duration.ofSeconds(30));
    extraServerConfig.forEach(builder::setServerConfig);
    started = builder.start();
    if (legacy[0]) {
      closeLegacyTrust(password);
    }
    prepareDatabase();
  }

  /**
   * Writes the password-only pg_hba.conf, except for a data folder of an older release that still
   * trusts (its superuser may have no password yet): that one keeps its file until {@link
   * #closeLegacyTrust} has set the password. Returns whether it is such a folder.
   */
  static boolean writeHba(Path dataDir, boolean initializedBefore) {
    Path hba = dataDir.resolve("pg_hba.conf");
    try {
      if (initializedBefore && Files.isRegularFile(hba) && trusts(Files.readString(hba))) {
        return true;
      }
      Files.writeString(hba, hbaPasswordsOnly());
      return false;
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + hba + ": " + e.getMessage(), e);
    }
  }

  static boolean trusts(String hba) {
    return hba.lines()
        .map(String::strip)
        .filter(l -> !l.startsWith("#"))
        .anyMatch(l -> l.matches(".*\\strust(\\s.*)?"));
  }

  private static String hbaPasswordsOnly() {
    return String.join(
        "\n",
        "# written by ./tally stack: every role, the superuser included, logs in with its",
        "# password (scram-sha-256); the passwords are in the stack's secrets folder.",
        "local all all scram-sha-256",
        "host  all all 127.0.0.1/32 scram-sha-256",
        "host  all all ::1/128 scram-sha-256",
        "");
  }

  /** A stack made by an older release: give the superuser its password, then stop trusting. */
  private void closeLegacyTrust(String password) throws Exception {
    try (Connection c = DriverManager.getConnection(layout.adminJdbcUrl(), SUPERUSER, "")) {
      c.unwrap(org.postgresql.PGConnection.class)
          .alterUserPassword(SUPERUSER, password.toCharArray(), "scram-sha-256");
      Files.writeString(data().resolve("pg_hba.conf"), hbaPasswordsOnly());
      try (Statement s = c.createStatement()) {
        s.execute("SELECT pg_reload_conf()");
      }
    }
    // the postmaster reloads on SIGHUP, asynchronously: wait until trust is really gone
    if (Poll.until(
            Duration.ofSeconds(10),
            Duration.ofMillis(100),
            () -> acceptsWithoutPassword() ? null : Boolean.TRUE)
        == null) {
      throw new IllegalStateException(
          "PostgreSQL still trusts the superuser after a reload of "
              + data().resolve("pg_hba.conf")
              + "; stop the stack (./tally stack down) and start it again");
    }
  }

  boolean acceptsWithoutPassword() {
    try (Connection ignored = DriverManager.getConnection(layout.adminJdbcUrl(), SUPERUSER, "")) {
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  private void prepareDatabase() throws Exception {
    try (Connection c =
            DriverManager.getConnection(layout.adminJdbcUrl(), SUPERUSER, superuserPassword());
        Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery(
              "SELECT 1 FROM pg_database WHERE datname = '" + StackLayout.DATABASE + "'")) {
        if (!rs.next()) {
          s.execute("CREATE DATABASE " + StackLayout.DATABASE);
        }
      }
    }
    migrate();
    try (Connection c = admin();
        Statement s = c.createStatement()) {
      ensureLogin(s, StackLayout.WRITER_USER, "tally_writer", layout.writerPasswordFile());
      ensureLogin(s, StackLayout.ANALYST_USER, "tally_analyst", layout.analystPasswordFile());
      ensureLogin(s, StackLayout.AUDITOR_USER, "tally_auditor", layout.auditorPasswordFile());
    }
  }

  int migrate() throws SQLException {
    return SchemaMigrations.migrate(layout.jdbcUrl(), SUPERUSER, superuserPassword());
  }

  private String superuserPassword() throws SQLException {
    Path file = layout.superuserPasswordFile();
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      throw new SQLException(
          "cannot read the superuser's password from "
              + file
              + " ("
              + e.getMessage()
              + "); it is written by ./tally stack up",
          "28P01",
          e);
    }
  }

  Connection admin() throws SQLException {
    return DriverManager.getConnection(layout.jdbcUrl(), SUPERUSER, superuserPassword());
  }

  Connection analyst() throws IOException, SQLException {
    return DriverManager.getConnection(
        layout.jdbcUrl(),
        StackLayout.ANALYST_USER,
        Files.readString(layout.analystPasswordFile()).strip());
  }

  Connection auditor() throws Exception {
    if (!Files.isRegularFile(layout.auditorPasswordFile())) {
      // a stack set up by an older release: create the login now
      try (Connection c = admin();
          Statement s = c.createStatement()) {
        ensureLogin(s, StackLayout.AUDITOR_USER, "tally_auditor", layout.auditorPasswordFile());
      }
    }
    return DriverManager.getConnection(
        layout.jdbcUrl(),
        StackLayout.AUDITOR_USER,
        Files.readString(layout.auditorPasswordFile()).strip());
  }

  /** A login role with a generated password kept in a 0600 file (never printed). */
  static void ensureLogin(Statement s, String user, String groupRole, Path passwordFile)
      throws Exception {
    String password = Secrets.readOrCreate(passwordFile);
    // Identifiers are constants, never user input.
    try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + user + "'")) {
      if (!rs.next()) {
        s.execute("CREATE ROLE " + user + " LOGIN IN ROLE " + groupRole);
      }
    }
    // The driver computes the SCRAM verifier and sends only that: the password itself never
    // reaches the server, so no server log (a failed statement is logged whole) can hold it.
    s.getConnection()
        .unwrap(org.postgresql.PGConnection.class)
        .alterUserPassword(user, password.toCharArray(), "scram-sha-256");
  }

  boolean isRunning() {
    return postmaster().isPresent();
  }

  /** The running postmaster of this stack's data folder, if any. */
  private Optional<ProcessHandle> postmaster() {
    try {
      Path pidFile = data().resolve("postmaster.pid");
      if (!Files.isRegularFile(pidFile)) {
        return Optional.empty();
      }
      long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).strip());
      return ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .filter(h -> h.info().command().map(c -> c.endsWith("/postgres")).orElse(false));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Fast shutdown: through the embedded library when this object started the server (which also
   * releases its lock on the data folder, needed for a start after a stop in the same JVM, as in a
   * drill's restart), else SIGINT to the postmaster (pg_ctl refuses to run as root; the server
   * itself does not mind).
   */
  void stop() throws Exception {
    if (started != null) {
      started.close();
      started = null;
    }
    Optional<ProcessHandle> pm = postmaster();
    if (pm.isEmpty()) {
      return;
    }
    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pm.get().pid())).start();
    kill.waitFor(10, TimeUnit.SECONDS);
    if (!ManagedProcess.awaitExit(pm.get(), Duration.ofSeconds(60))) {
      pm.get().destroyForcibly();
    }
  }
}
