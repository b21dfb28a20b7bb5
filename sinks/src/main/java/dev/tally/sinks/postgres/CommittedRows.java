package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a generation has committed to {@code tally.*}, read as the audit, the stall checks and the
 * upgrades need it. Every read takes the newest committed version of each row (the tables are
 * versioned, {@link TallyTable}); the statements live here because this module owns the schema.
 */
public final class CommittedRows {
  private CommittedRows() {}

  /** The newest committed offset range of one source partition. */
  public record SourceOffsets(
      String topic, int partition, long firstOffset, long nextOffset, long records) {}

  /** A generation's ledger summed over its newest row versions. */
  public record LedgerTotals(
      long consumed,
      long aggregated,
      long duplicates,
      long tooLate,
      long deadLettered,
      long rows,
      long unbalancedRows) {}

  /** Ledger totals a generation took over from its parent's savepoint (blue/green). */
  public record Inherited(long consumed, long aggregated, long tooLate, long deadLettered) {}

  /**
   * An ingestion warning the job committed (SEMANTICS.md §4): not a violation — the data is
   * accounted for — but something an operator should see, e.g. refused person merges.
   */
  public record Warning(String kind, String project, long occurrences) {
    @Override
    public String toString() {
      return String.format("%s in project %s: %,d", kind, project, occurrences);
    }
  }

  /** Per source partition the generation read, its newest committed range. */
  public static List<SourceOffsets> sourceOffsets(Connection db, String generation)
      throws SQLException {
    List<SourceOffsets> offsets = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT DISTINCT ON (topic, partition) topic, partition, first_offset, next_offset, records"
                + " FROM tally.source_offsets WHERE generation = ? ORDER BY topic, partition, revision DESC")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          offsets.add(
              new SourceOffsets(
                  rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
        }
      }
    }
    return offsets;
  }

  public static LedgerTotals ledgerTotals(Connection db, String generation) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT coalesce(sum(consumed),0), coalesce(sum(aggregated),0), coalesce(sum(duplicates),0),"
                + " coalesce(sum(too_late),0), coalesce(sum(dead_lettered),0), count(*),"
                + " count(*) FILTER (WHERE consumed <> aggregated + duplicates + too_late + dead_lettered)"
                + " FROM (SELECT DISTINCT ON (project, hour) * FROM tally.ledger WHERE generation = ?"
                + " ORDER BY project, hour, revision DESC) l")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new LedgerTotals(
            rs.getLong(1),
            rs.getLong(2),
            rs.getLong(3),
            rs.getLong(4),
            rs.getLong(5),
            rs.getLong(6),
            rs.getLong(7));
      }
    }
  }

  /**
   * The ledger totals a generation inherited from its parent's savepoint (blue/green), or null when
   * it started on its own.
   */
  public static Inherited inherited(Connection db, String generation) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT inherited_consumed, inherited_aggregated, inherited_too_late, inherited_dead_lettered"
                + " FROM tally.generation_inheritance WHERE generation = ?")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        return new Inherited(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4));
      }
    }
  }

  /** The generation's committed warnings per kind and project (newest revisions summed). */
  public static List<Warning> warnings(Connection db, String generation) throws SQLException {
    List<Warning> warnings = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT kind, project, sum(occurrences) FROM (SELECT DISTINCT ON (project, hour, kind) *"
                + " FROM tally.ingestion_warnings WHERE generation = ?"
                + " ORDER BY project, hour, kind, revision DESC) w GROUP BY kind, project"
                + " ORDER BY kind, project")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          warnings.add(new Warning(rs.getString(1), rs.getString(2), rs.getLong(3)));
        }
      }
    }
    return warnings;
  }

  /** A generation's committed watermark (complete_through, epoch ms), or null before it has one. */
  public static Long completeThroughMs(Connection db, String generation) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT complete_through_ms FROM tally.generation_freshness WHERE generation = ?")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getObject(1) != null ? rs.getLong(1) : null;
      }
    }
  }

  /**
   * The (project, hour)s whose ledger {@code aggregated} differs from the sum of the minute {@code
   * event_counts} of that hour.
   */
  public static long mismatchedAggregateHours(Connection db, String generation)
      throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "WITH m AS (SELECT project, date_trunc('hour', window_start) AS hour, sum(events) AS events"
                + "   FROM (SELECT DISTINCT ON (project, grain, window_start, event) * FROM tally.event_counts"
                + "         WHERE generation = ? AND grain = 'minute'"
                + "         ORDER BY project, grain, window_start, event, revision DESC) c GROUP BY 1, 2),"
                + " l AS (SELECT DISTINCT ON (project, hour) project, hour, aggregated FROM tally.ledger"
                + "   WHERE generation = ? AND hour IS NOT NULL ORDER BY project, hour, revision DESC)"
                + " SELECT count(*) FROM l FULL JOIN m USING (project, hour)"
                + " WHERE coalesce(l.aggregated, 0) <> coalesce(m.events, 0)")) {
      ps.setString(1, generation);
      ps.setString(2, generation);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Per subtask of the sink {@code sinkId}, the newest transaction (checkpoint) it committed. */
  public static Map<Integer, Long> committedBySubtask(
      Connection db, String generation, String sinkId) throws SQLException {
    Map<Integer, Long> committed = new TreeMap<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT subtask, max(checkpoint) FROM tally.sink_commits"
                + " WHERE generation = ? AND sink_id = ? GROUP BY subtask")) {
      ps.setString(1, generation);
      ps.setString(2, sinkId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          committed.put(rs.getInt(1), rs.getLong(2));
        }
      }
    }
    return committed;
  }

  /** Whether any sink of the generation has committed a transaction. */
  public static boolean hasCommitted(Connection db, String generation) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement("SELECT 1 FROM tally.sink_commits WHERE generation = ? LIMIT 1")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** When the generation's sinks last prepared a transaction that committed, or null. */
  public static Instant lastCommit(Connection db, String generation) throws SQLException {
    return instant(
        db, "SELECT max(prepared_at) FROM tally.sink_commits WHERE generation = ?", generation);
  }

  /** When the generation was registered, or null. */
  public static Instant registeredAt(Connection db, String generation) throws SQLException {
    return instant(
        db, "SELECT registered_at FROM tally.generations WHERE generation = ?", generation);
  }

  /**
   * Whether every subtask of the sink {@code sinkId} (as many as its parallelism) committed a
   * transaction prepared after {@code since}.
   */
  public static boolean allSubtasksCommittedSince(
      Connection db, String generation, String sinkId, Instant since) throws SQLException {
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT count(DISTINCT subtask), max(parallelism) FROM tally.sink_commits"
                + " WHERE generation = ? AND sink_id = ? AND prepared_at > ?")) {
      ps.setString(1, generation);
      ps.setString(2, sinkId);
      ps.setTimestamp(3, Timestamp.from(since));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getInt(2) > 0 && rs.getInt(1) >= rs.getInt(2);
      }
    }
  }

  /** The newest committed version of one {@code event_counts} row. */
  public record EventCount(
      String project, String grain, long windowStartMs, String event, long events, long persons) {}

  /** Every committed {@code event_counts} row of a generation, newest versions. */
  public static List<EventCount> eventCounts(Connection db, String generation) throws SQLException {
    List<EventCount> rows = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT DISTINCT ON (project, grain, window_start, event) project, grain,"
                + " (extract(epoch FROM window_start) * 1000)::bigint, event, events, persons"
                + " FROM tally.event_counts WHERE generation = ?"
                + " ORDER BY project, grain, window_start, event, revision DESC")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.add(
              new EventCount(
                  rs.getString(1),
                  rs.getString(2),
                  rs.getLong(3),
                  rs.getString(4),
                  rs.getLong(5),
                  rs.getLong(6)));
        }
      }
    }
    return rows;
  }

  private static Instant instant(Connection db, String sql, String generation) throws SQLException {
    try (PreparedStatement ps = db.prepareStatement(sql)) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        Timestamp t = rs.getTimestamp(1);
        return t == null ? null : t.toInstant();
      }
    }
  }
}
