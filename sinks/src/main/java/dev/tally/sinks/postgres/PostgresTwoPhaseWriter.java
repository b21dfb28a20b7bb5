package dev.tally.sinks.postgres;

import dev.tally.operators.model.TallyRow;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.metrics.groups.SinkWriterMetricGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Buffers the newest revision of every row between barriers and writes the batch in one transaction
 * that it prepares at the barrier. Buffering keeps statements few, and because every row version is
 * a new insert, a checkpoint never waits on a row that the previous, still prepared transaction
 * locked (which would block this very thread until {@code lock_timeout}).
 */
final class PostgresTwoPhaseWriter
    implements CommittingSinkWriter<TallyRow, PostgresCommittable>,
        StatefulSinkWriter<TallyRow, PostgresWriterState> {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresTwoPhaseWriter.class);

  private final PostgresTwoPhaseSink.Options options;
  private final int subtask;
  private final int parallelism;
  private final Map<String, TallyRow> buffer = new HashMap<>();
  private Connection connection;
  private long databaseOid;
  private long lastSnapshottedCheckpoint;
  private long lastPreparedCheckpoint;
  private long watermark = Long.MIN_VALUE;
  private volatile long preparedWatermark = Long.MIN_VALUE;

  PostgresTwoPhaseWriter(
      PostgresTwoPhaseSink.Options options,
      int subtask,
      int parallelism,
      OptionalLong restoredCheckpoint,
      SinkWriterMetricGroup metrics)
      throws IOException {
    this.options = options;
    this.subtask = subtask;
    this.parallelism = parallelism;
    this.lastSnapshottedCheckpoint = restoredCheckpoint.orElse(0);
    // Event-time lag of what this subtask last prepared (committed one checkpoint later):
    // alert when it exceeds checkpoint interval + out-of-orderness by far (docs/operations.md).
    metrics.gauge(
        "tallyWatermarkLagMs",
        () ->
            preparedWatermark == Long.MIN_VALUE
                ? -1L
                : System.currentTimeMillis() - preparedWatermark);
    try {
      connection = options.connection().open();
      connection.setAutoCommit(true);
      try (Statement s = connection.createStatement()) {
        s.execute("SET lock_timeout = '" + options.lockTimeout().toMillis() + "ms'");
      }
      PostgresChecks.requireReady(connection, options.generation(), parallelism);
      try (Statement s = connection.createStatement();
          java.sql.ResultSet rs =
              s.executeQuery("SELECT oid FROM pg_database WHERE datname = current_database()")) {
        rs.next();
        databaseOid = rs.getLong(1);
      }
      if (subtask == 0) {
        registerGeneration();
      }
      new PreparedTransactions(connection, options.generation(), options.sinkId())
          .recover(subtask, parallelism, restoredCheckpoint);
      if (restoredCheckpoint.isPresent()) {
        watermark = committedWatermarkAt(restoredCheckpoint.getAsLong());
      }
    } catch (SQLException e) {
      closeQuietly();
      throw new IOException("PostgreSQL sink cannot start: " + e.getMessage(), e);
    }
  }

  /**
   * The watermark all subtasks had committed by the restored checkpoint (their minimum): every row
   * it vouches for is committed, so a restarted writer can keep stamping it instead of falling back
   * to "no watermark" until the sources emit new ones.
   */
  private long committedWatermarkAt(long checkpoint) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "SELECT min(watermark_ms), bool_and(watermark_ms IS NOT NULL) FROM ("
                + " SELECT DISTINCT ON (subtask) watermark_ms FROM tally.sink_commits"
                + " WHERE generation = ? AND sink_id = ? AND checkpoint <= ?"
                + " ORDER BY subtask, checkpoint DESC) s")) {
      ps.setString(1, options.generation());
      ps.setString(2, options.sinkId());
      ps.setLong(3, checkpoint);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(2) && rs.getObject(1) != null ? rs.getLong(1) : Long.MIN_VALUE;
      }
    }
  }

  private void registerGeneration() throws SQLException {
    GenerationRegistry.register(connection, options.generation(), options.settings());
  }

  @Override
  public void write(TallyRow row, Context context) {
    // a copy: with object reuse the runtime may hand us the same instance again
    buffer.merge(row.key(), row.copy(), (old, neu) -> neu.revision >= old.revision ? neu : old);
  }

  @Override
  public void writeWatermark(Watermark wm) {
    // End of input (a bounded backfill, stop --drain) is not event time: committed, it would make
    // complete_through infinity and every row final forever. The last real watermark stays.
    if (wm.getTimestamp() == Long.MAX_VALUE) {
      return;
    }
    watermark = Math.max(watermark, wm.getTimestamp());
  }

  @Override
  public void flush(boolean endOfInput) {
    // Nothing to do: rows are written in prepareCommit, which Flink calls after flush.
  }

  @Override
  public Collection<PostgresCommittable> prepareCommit() throws IOException {
    // prepareCommit gets no checkpoint id. max(last snapshotted, last prepared) + 1 is ≤ the
    // real id and > every id this writer prepared before, even when a checkpoint was declined
    // before this writer's snapshot: all recovery needs (docs/exactly-once.md).
    long checkpoint = Math.max(lastSnapshottedCheckpoint, lastPreparedCheckpoint) + 1;
    lastPreparedCheckpoint = checkpoint;
    String gid =
        TransactionIds.gid(
            options.generation(), options.sinkId(), subtask, checkpoint, databaseOid);
    try {
      connection.setAutoCommit(false);
      int rows = insertRows(checkpoint);
      insertCommitRow(gid, checkpoint, rows);
      try (Statement s = connection.createStatement()) {
        s.execute("PREPARE TRANSACTION " + TransactionIds.literal(gid));
      }
      connection.setAutoCommit(true);
      preparedWatermark = watermark;
      LOG.debug("prepared {} with {} rows, watermark {}", gid, rows, watermark);
    } catch (SQLException e) {
      throw new IOException(
          "cannot prepare PostgreSQL transaction " + gid + ": " + e.getMessage(), e);
    }
    buffer.clear();
    return List.of(new PostgresCommittable(gid, subtask, checkpoint));
  }

  private int insertRows(long checkpoint) throws SQLException {
    Map<TallyRow.Table, List<TallyRow>> byTable = new EnumMap<>(TallyRow.Table.class);
    for (TallyRow r : buffer.values()) {
      byTable.computeIfAbsent(r.table, t -> new ArrayList<>()).add(r);
    }
    for (Map.Entry<TallyRow.Table, List<TallyRow>> e : byTable.entrySet()) {
      RowInserts.Insert insert = RowInserts.BY_TABLE.get(e.getKey());
      try (PreparedStatement ps = connection.prepareStatement(insert.sql())) {
        for (TallyRow r : e.getValue()) {
          insert.bind(ps, options.generation(), r, subtask, checkpoint);
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    return buffer.size();
  }

  private void insertCommitRow(String gid, long checkpoint, int rows) throws SQLException {
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO tally.sink_commits (generation, sink_id, subtask, checkpoint, gid, parallelism, watermark_ms, row_count)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
      ps.setString(1, options.generation());
      ps.setString(2, options.sinkId());
      ps.setInt(3, subtask);
      ps.setLong(4, checkpoint);
      ps.setString(5, gid);
      ps.setInt(6, parallelism);
      RowInserts.setLongOrNull(ps, 7, watermark, Long.MIN_VALUE);
      ps.setInt(8, rows);
      ps.executeUpdate();
    }
  }

  @Override
  public List<PostgresWriterState> snapshotState(long checkpointId) {
    lastSnapshottedCheckpoint = checkpointId;
    return List.of(
        new PostgresWriterState(
            subtask, checkpointId, lastPreparedCheckpoint, options.generation()));
  }

  @Override
  public void close() {
    closeQuietly();
    PostgresConnectionConfig.releaseDriverOfThisJob();
  }

  private void closeQuietly() {
    if (connection == null) {
      return;
    }
    try {
      if (!connection.getAutoCommit()) {
        connection.rollback(); // an unprepared transaction is simply discarded
      }
    } catch (SQLException ignored) {
      // closing anyway
    }
    try {
      connection.close();
    } catch (SQLException ignored) {
      // closing anyway
    }
    connection = null;
  }
}
