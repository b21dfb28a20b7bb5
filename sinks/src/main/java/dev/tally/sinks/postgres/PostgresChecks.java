package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Start-up checks that turn a misconfigured database into one clear message. */
public final class PostgresChecks {
  private PostgresChecks() {}

  /** A generation that committed within this many seconds counts as running. */
  static final int RUNNING_WINDOW_SECONDS = 120;

  /** Fails unless the schema is migrated, the login may write, and 2PC has room. */
  public static void requireReady(Connection c, int parallelism) throws SQLException {
    requireReady(c, null, parallelism);
  }

  /**
   * As {@link #requireReady(Connection, int)}; the prepared-transaction budget also counts the
   * other generations that are running now (committed within {@link #RUNNING_WINDOW_SECONDS}), e.g.
   * blue while green starts: they hold prepared transactions of their own.
   */
  public static void requireReady(Connection c, String generation, int parallelism)
      throws SQLException {
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
      int others = 0;
      StringBuilder running = new StringBuilder();
      if (generation != null) {
        try (java.sql.PreparedStatement ps =
            c.prepareStatement(
                "SELECT generation, max(parallelism) FROM tally.latest_sink_commits"
                    + " WHERE generation <> ? AND prepared_at > now() - make_interval(secs => ?)"
                    + " GROUP BY generation ORDER BY generation")) {
          ps.setString(1, generation);
          ps.setInt(2, RUNNING_WINDOW_SECONDS);
          try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
              others += rs.getInt(2);
              running.append(running.length() == 0 ? "" : ", ");
              running.append(rs.getString(1)).append(" (").append(rs.getInt(2)).append(')');
            }
          }
        }
      }
      try (ResultSet rs = s.executeQuery("SHOW max_prepared_transactions")) {
        rs.next();
        int max = Integer.parseInt(rs.getString(1));
        // Each subtask can hold two prepared transactions (one committing, one just prepared).
        int needed = 2 * (parallelism + others);
        if (max < needed) {
          throw new SQLException(
              "PostgreSQL max_prepared_transactions is "
                  + max
                  + ", the sink needs at least "
                  + needed
                  + " (2 × parallelism "
                  + parallelism
                  + (others == 0
                      ? ""
                      : " + 2 × the parallelism of the generations running now: " + running)
                  + "); set it in postgresql.conf and restart PostgreSQL");
        }
      }
    }
  }
}
