package dev.tally.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import picocli.CommandLine.Option;

/**
 * A database other than the local stack's, for the read-only commands; the login (its {@code
 * --user}) is each command's own, as each needs another role. The password comes from a file or the
 * environment, never from the command line.
 */
final class DatabaseOptions {
  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      description = "read this database instead of the local stack's")
  String jdbcUrl;

  @Option(
      names = "--password-file",
      paramLabel = "FILE",
      description =
          "file with the password for --jdbc-url (default: environment variable TALLY_PG_PASSWORD)")
  Path passwordFile;

  /** Whether a database other than the local stack's was given. */
  boolean given() {
    return jdbcUrl != null;
  }

  Connection connect(String user) throws IOException, SQLException {
    return DriverManager.getConnection(jdbcUrl, user, password());
  }

  private String password() throws IOException {
    return passwordFile != null
        ? Files.readString(passwordFile).strip()
        : System.getenv().getOrDefault("TALLY_PG_PASSWORD", "");
  }
}
