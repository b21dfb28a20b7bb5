package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The prepared transactions of a generation that will not be restored (cancelled, crashed for good,
 * an aborted green). A cancelled job never commits its last prepared transaction and nothing else
 * would: it would hold its row locks and VACUUM back forever. Never for a generation that may still
 * be restored: its restore commits them (recovery, docs/exactly-once.md).
 */
public final class AbandonedTransactions {
  private AbandonedTransactions() {}

  /** Rolls back every prepared transaction of {@code generation}; returns their gids. */
  public static List<String> rollBack(Connection admin, String generation) throws SQLException {
    List<String> gids = new ArrayList<>();
    try (PreparedStatement ps =
        admin.prepareStatement(
            "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE ?"
                + " ORDER BY gid")) {
      ps.setString(1, TransactionIds.generationPattern(generation));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          gids.add(rs.getString(1));
        }
      }
    }
    List<String> rolledBack = new ArrayList<>();
    for (String gid : gids) {
      TransactionIds.Parsed parsed = TransactionIds.parse(gid);
      if (parsed == null || !parsed.generation().equals(generation)) {
        continue; // LIKE's '_' matched a neighbour's id: not ours
      }
      try (Statement s = admin.createStatement()) {
        s.execute("ROLLBACK PREPARED " + TransactionIds.literal(gid));
        rolledBack.add(gid);
      } catch (SQLException e) {
        if (!"42704".equals(e.getSQLState())) { // gone meanwhile: committed or rolled back
          throw e;
        }
      }
    }
    return rolledBack;
  }
}
