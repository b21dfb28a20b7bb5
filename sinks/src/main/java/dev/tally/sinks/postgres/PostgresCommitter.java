package dev.tally.sinks.postgres;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.sink2.Committer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commits prepared transactions once their checkpoint completed. A gid that no longer exists counts
 * as committed only if the {@code tally.sink_commits} row written inside that transaction is
 * visible; otherwise its rows are lost and the job fails loudly instead of going on silently. Any
 * other error fails the commit, so Flink restarts and re-commits from the checkpoint.
 *
 * <p>Subtask 0 also deletes superseded row versions every {@value #COMPACT_EVERY_COMMITS} commits,
 * on a thread and connection of its own: the committer runs on the sink's task thread, and a
 * compaction there held back the next checkpoint barrier by seconds (docs/performance.md finding
 * 27). The deletes only touch committed versions that a committed newer revision replaces, so they
 * never wait on a prepared transaction's rows. At most one runs at a time; {@link #close()} lets a
 * running one finish for a few seconds, then interrupts it.
 */
final class PostgresCommitter implements Committer<PostgresCommittable> {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresCommitter.class);
  private static final String UNDEFINED_OBJECT = "42704";
  private static final int COMPACT_EVERY_COMMITS = 20;

  /** How long {@link #close()} lets a running compaction finish before interrupting it. */
  private static final java.time.Duration CLOSE_GRACE = java.time.Duration.ofSeconds(5);

  private final PostgresTwoPhaseSink.Options options;
  private final int subtask;
  private Connection connection;
  private long commits;
  private ExecutorService compactor;
  private Future<?> compaction;
  private volatile Connection compactionConnection;

  PostgresCommitter(PostgresTwoPhaseSink.Options options, int subtask) {
    this.options = options;
    this.subtask = subtask;
  }

  @Override
  public void commit(Collection<CommitRequest<PostgresCommittable>> requests) throws IOException {
    for (CommitRequest<PostgresCommittable> request : requests) {
      String gid = request.getCommittable().gid();
      try {
        if (connection == null) {
          connection = open(); // closes what it opened if it fails
        }
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
        if (isTransient(e)) {
          // The prepared transaction is safe on the server; the commit can simply be tried again.
          // Flink retries at once (sink.committer.retries, default 10): back off a little first,
          // so a PostgreSQL restart of a few seconds does not fail the whole job over.
          LOG.warn(
              "COMMIT PREPARED {} failed transiently ({}), retry {}: {}",
              gid,
              e.getSQLState(),
              request.getNumberOfRetries() + 1,
              e.getMessage());
          backOff(request.getNumberOfRetries());
          request.retryLater();
          continue;
        }
        throw new IOException("COMMIT PREPARED " + gid + " failed: " + e.getMessage(), e);
      }
    }
    if (subtask == 0
        && commits >= COMPACT_EVERY_COMMITS
        && (compaction == null || compaction.isDone())) {
      commits = 0;
      compaction = compactor().submit(this::compact);
    }
  }

  /**
   * Errors after which the same commit can succeed: the connection failed or was refused (class
   * 08), the server is shutting down or starting (57P01–57P03), too many connections (53300), a
   * lock or serialization conflict (55P03, 40001, 40P01), a statement or socket timeout (57014).
   * Anything else (a missing grant, a gid that vanished) is not retried.
   */
  static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    if (state == null) {
      return e.getCause() instanceof java.io.IOException;
    }
    return state.startsWith("08")
        || java.util.Set.of("57P01", "57P02", "57P03", "53300", "55P03", "40001", "40P01", "57014")
            .contains(state);
  }

  /** 100 ms doubling to at most 2 s: ten retries span about 13 s. */
  static long backOffMillis(int retriesSoFar) {
    return Math.min(2_000L, 100L << Math.min(retriesSoFar, 5));
  }

  private static void backOff(int retriesSoFar) throws IOException {
    try {
      Thread.sleep(backOffMillis(retriesSoFar));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting to retry a commit", e);
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

  private ExecutorService compactor() {
    if (compactor == null) {
      compactor =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "tally-compaction-" + options.generation());
                t.setDaemon(true);
                return t;
              });
    }
    return compactor;
  }

  /** Deletes row versions that a newer committed revision supersedes. Best effort. */
  private void compact() {
    try {
      if (compactionConnection == null) {
        compactionConnection = open();
      }
      Connection c = compactionConnection;
      for (String sql : Compaction.ALL) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, options.generation());
          ps.executeUpdate();
        }
      }
    } catch (SQLException e) {
      LOG.warn("compaction of superseded row versions failed (will retry): {}", e.getMessage());
      closeCompactionConnection();
    }
  }

  private Connection open() throws SQLException {
    Connection c = options.connection().open();
    try {
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        s.execute("SET lock_timeout = '" + options.lockTimeout().toMillis() + "ms'");
      }
      return c;
    } catch (SQLException e) {
      c.close();
      throw e;
    }
  }

  private void closeCompactionConnection() {
    Connection c = compactionConnection;
    compactionConnection = null;
    closeQuietly(c);
  }

  private Connection connection() throws IOException {
    if (connection == null) {
      try {
        connection = open(); // closes what it opened if it fails
      } catch (SQLException e) {
        throw new IOException("cannot connect to PostgreSQL to commit: " + e.getMessage(), e);
      }
    }
    return connection;
  }

  /** Drops the commit connection; the next commit reconnects. */
  private void closeQuietly() {
    closeQuietly(connection);
    connection = null;
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // nothing to keep: a new one is opened when needed
      }
    }
  }

  @Override
  public void close() {
    if (compactor != null) {
      compactor.shutdown();
      try {
        if (!compactor.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
          compactor.shutdownNow();
          closeCompactionConnection(); // aborts a statement still running
          compactor.awaitTermination(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (InterruptedException e) {
        compactor.shutdownNow();
        Thread.currentThread().interrupt();
      }
      closeCompactionConnection();
    }
    closeQuietly();
    PostgresConnectionConfig.releaseDriverOfThisJob();
  }
}
