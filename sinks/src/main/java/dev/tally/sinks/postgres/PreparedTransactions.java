package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Recovery of one sink's prepared transactions when a writer subtask starts. */
final class PreparedTransactions {
  private static final Logger LOG = LoggerFactory.getLogger(PreparedTransactions.class);

  private final Connection connection;
  private final String generation;
  private final String sinkId;

  PreparedTransactions(Connection connection, String generation, String sinkId) {
    this.connection = connection;
    this.generation = generation;
    this.sinkId = sinkId;
  }

  /**
   * On restore from checkpoint R, rolls back this sink's prepared transactions newer than R (they
   * belong to checkpoints that never completed); R's own transactions are committed by the
   * committer from restored state. Without restored state, rolls back all of them. Subtask 0 also
   * takes the subtask numbers at or above the current parallelism (after a scale-down).
   *
   * <p>Refuses to start, loudly, when the database already holds commits this state does not know:
   * a start without state of a generation that has committed data, or a restore from a checkpoint
   * older than the generation's last commit. Either would count data twice.
   */
  void recover(int subtask, int parallelism, OptionalLong restoredCheckpoint) throws SQLException {
    long newestCommitted = newestCommittedCheckpoint();
    if (restoredCheckpoint.isEmpty() && newestCommitted >= 0) {
      throw new SQLException(
          "generation '"
              + generation
              + "' already committed data (up to checkpoint "
              + newestCommitted
              + ") but this job starts without state: restore it from its last checkpoint or"
              + " savepoint, or start a new generation");
    }
    if (restoredCheckpoint.isPresent() && newestCommitted > restoredCheckpoint.getAsLong()) {
      throw new SQLException(
          "generation '"
              + generation
              + "' committed checkpoint "
              + newestCommitted
              + " but the job restores the older checkpoint "
              + restoredCheckpoint.getAsLong()
              + ": restoring behind committed data would count it twice; start a new generation");
    }
    long after = restoredCheckpoint.orElse(-1);
    for (String gid : preparedGids()) {
      TransactionIds.Parsed p = TransactionIds.parse(gid);
      if (p == null) {
        continue;
      }
      boolean mine = p.subtask() == subtask || (subtask == 0 && p.subtask() >= parallelism);
      if (mine && p.checkpoint() > after) {
        try (Statement s = connection.createStatement()) {
          s.execute("ROLLBACK PREPARED " + TransactionIds.literal(gid));
        }
        LOG.warn(
            "rolled back orphaned prepared transaction {} (restored checkpoint {})", gid, after);
      }
    }
  }

  private long newestCommittedCheckpoint() throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT coalesce(max(checkpoint), -1) FROM tally.sink_commits WHERE generation = ? AND sink_id = ?")) {
      ps.setString(1, generation);
      ps.setString(2, sinkId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private List<String> preparedGids() throws SQLException {
    List<String> gids = new ArrayList<>();
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE ?")) {
      ps.setString(1, TransactionIds.sinkPrefix(generation, sinkId) + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          gids.add(rs.getString(1));
        }
      }
    }
    return gids;
  }
}
