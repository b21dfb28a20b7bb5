package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

/**
 * The {@code tally.*} side of starting a generation from another's savepoint (blue/green): the
 * compaction hold that keeps the old generation's row versions as of the savepoint, the copy of
 * those rows ({@link TallyTable#copyAsOfSql}) and the lineage in {@code
 * tally.generation_inheritance}.
 */
public final class GenerationCopy {
  private GenerationCopy() {}

  /** The rows and ledger totals a generation inherited. */
  public record Copied(long rows, CommittedRows.LedgerTotals ledger) {}

  /** Pauses compaction of {@code generation}'s superseded row versions. */
  public static void hold(Connection c, String generation, String reason) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO tally.compaction_holds (generation, reason) VALUES (?, ?)"
                + " ON CONFLICT (generation) DO UPDATE SET reason = EXCLUDED.reason, held_at = now()")) {
      ps.setString(1, generation);
      ps.setString(2, reason);
      ps.executeUpdate();
    }
  }

  public static void release(Connection c, String generation) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement("DELETE FROM tally.compaction_holds WHERE generation = ?")) {
      ps.setString(1, generation);
      ps.executeUpdate();
    }
  }

  /** The generation {@code generation} inherited from, or null if it started on its own. */
  public static String parent(Connection c, String generation) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT parent FROM tally.generation_inheritance WHERE generation = ?")) {
      ps.setString(1, generation);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /**
   * Copies {@code from}'s newest row versions as of the boundary into {@code to}, with their
   * revisions, and records the lineage and the inherited ledger totals — in one transaction. The
   * boundary is, per sink subtask, the transaction {@code from} prepared at the savepoint's
   * barrier; rows without provenance (written before the sink recorded it) predate any savepoint
   * taken since and are included.
   */
  public static Copied copyRows(
      Connection c, String from, String to, Map<Integer, Long> preparedBySubtask, String savepoint)
      throws SQLException {
    Integer[] subtasks = preparedBySubtask.keySet().toArray(Integer[]::new);
    Long[] prepared = preparedBySubtask.values().toArray(Long[]::new);
    return InTransaction.run(
        c,
        () -> {
          long rows = 0;
          for (TallyTable t : TallyTable.values()) {
            try (PreparedStatement ps = c.prepareStatement(t.copyAsOfSql())) {
              ps.setString(1, to);
              ps.setArray(2, c.createArrayOf("integer", subtasks));
              ps.setArray(3, c.createArrayOf("bigint", prepared));
              ps.setString(4, from);
              rows += ps.executeUpdate();
            }
          }
          CommittedRows.LedgerTotals ledger = CommittedRows.ledgerTotals(c, to);
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO tally.generation_inheritance (generation, parent, parent_savepoint,"
                      + " inherited_consumed, inherited_aggregated, inherited_too_late, inherited_dead_lettered)"
                      + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, to);
            ps.setString(2, from);
            ps.setString(3, savepoint);
            ps.setLong(4, ledger.consumed());
            ps.setLong(5, ledger.aggregated());
            ps.setLong(6, ledger.tooLate());
            ps.setLong(7, ledger.deadLettered());
            ps.executeUpdate();
          }
          return new Copied(rows, ledger);
        });
  }
}
