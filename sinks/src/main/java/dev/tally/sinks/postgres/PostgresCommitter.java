package dev.tally.sinks.postgres;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import org.apache.flink.api.connector.sink2.Committer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits prepared transactions once their checkpoint completed. A gid that no longer exists counts
 * as committed only if the {@code tally.sink_commits} row written inside that transaction is
 * visible; otherwise its rows are lost and the job fails loudly instead of going on silently. Any
 * other error fails the commit, so Flink restarts and re-commits from the checkpoint.
 */
final class PostgresCommitter implements Committer<PostgresCommittable> {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresCommitter.class);
  private static final String UNDEFINED_OBJECT = "42704";
  private static final int COMPACT_EVERY_COMMITS = 20;

  private final PostgresTwoPhaseSink.Options options;
  private final int subtask;
  private Connection connection;
  private long commits;

  PostgresCommitter(PostgresTwoPhaseSink.Options options, int subtask) {
    this.options = options;
    this.subtask = subtask;
  }

  @Override
  public void commit(Collection<CommitRequest<PostgresCommittable>> requests) throws IOException {
    for (CommitRequest<PostgresCommittable> request : requests) {
      String gid = request.getCommittable().gid();
      try {
        connection();
        try (Statement s = connection.createStatement()) {
          s.execute("COMMIT PREPARED " + TransactionIds.literal(gid));
        }
        commits++;
      } catch (SQLException e) {
        if (UNDEFINED_OBJECT.equals(e.getSQLState()) && provenCommitted(gid)) {
          request.signalAlreadyCommitted();
          continue;
        }
        if (UNDEFINED_OBJECT.equals(e.getSQLState())) {
          throw new IOException(
              "prepared transaction "
                  + gid
                  + " no longer exists and never committed: its rows are lost."
                  + " Someone rolled it back outside Tally; rebuild this generation (backfill).",
              e);
        }
        closeQuietly();
        throw new IOException("COMMIT PREPARED " + gid + " failed: " + e.getMessage(), e);
      }
    }
    if (subtask == 0 && commits >= COMPACT_EVERY_COMMITS) {
      commits = 0;
      compact();
    }
  }

  private boolean provenCommitted(String gid) throws IOException {
    try (PreparedStatement ps =
        connection().prepareStatement("SELECT 1 FROM tally.sink_commits WHERE gid = ?")) {
      ps.setString(1, gid);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    } catch (SQLException e) {
      closeQuietly();
      throw new IOException("cannot check whether " + gid + " committed: " + e.getMessage(), e);
    }
  }

  /** Deletes row versions that a newer committed revision supersedes. Best effort. */
  private void compact() {
    try {
      Connection c = connection();
      for (String sql : Compaction.ALL) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, options.generation());
          ps.executeUpdate();
        }
      }
    } catch (SQLException | IOException e) {
      LOG.warn("compaction of superseded row versions failed (will retry): {}", e.getMessage());
    }
  }

  private Connection connection() throws IOException {
    if (connection == null) {
      try {
        connection = options.connection().open();
        connection.setAutoCommit(true);
        try (Statement s = connection.createStatement()) {
          s.execute("SET lock_timeout = '" + options.lockTimeout().toMillis() + "ms'");
        }
      } catch (SQLException e) {
        closeQuietly();
        throw new IOException("cannot connect to PostgreSQL to commit: " + e.getMessage(), e);
      }
    }
    return connection;
  }

  private void closeQuietly() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // reconnect next time
      }
      connection = null;
    }
  }

  @Override
  public void close() {
    closeQuietly();
    PostgresConnectionConfig.releaseDriverOfThisJob();
  }
}
