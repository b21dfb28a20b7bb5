package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Start-up checks that turn a misconfigured database into one clear message. */
public final class PostgresChecks {
  private PostgresChecks() {}

  /** Fails unless the schema is migrated, the login may write, and 2PC has room. */
  public static void requireReady(Connection c, int parallelism) throws SQLException {
    try (Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT to_regclass('tally.sink_commits') IS NOT NULL")) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw new SQLException(
              "the Tally schema is missing in this database: run './tally db migrate' first");
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT has_table_privilege(current_user, 'tally.event_counts', 'INSERT')"
                  + " AND has_table_privilege(current_user, 'tally.sink_commits', 'INSERT')"
                  + " AND has_table_privilege(current_user, 'tally.ledger', 'INSERT')")) {
        rs.next();
        if (!rs.getBoolean(1)) {
          throw new SQLException(
              "the login cannot insert into tally.* tables: grant it the role tally_writer");
        }
      }
      try (ResultSet rs = s.executeQuery("SHOW max_prepared_transactions")) {
        rs.next();
        int max = Integer.parseInt(rs.getString(1));
        // Each subtask can hold two prepared transactions (one committing, one just prepared).
        int needed = 2 * parallelism;
        if (max < needed) {
          throw new SQLException(
              "PostgreSQL max_prepared_transactions is "
                  + max
                  + ", the sink needs at least "
                  + needed
                  + " (2 × parallelism "
                  + parallelism
                  + "); set it in postgresql.conf and restart PostgreSQL");
        }
      }
    }
  }
}
