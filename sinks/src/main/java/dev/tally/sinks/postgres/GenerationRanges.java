package dev.tally.sinks.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * {@code tally.generation_ranges}: the ranges in which analysts see a backfill generation's rows
 * instead of the live generation's (docs/backfill.md). Applying one is a single insert, so the
 * switch is atomic for every view; where two applied ranges overlap the later applied wins; a
 * rolled-back range stops applying and what it covered shows the earlier range or the live rows
 * again. Rows are never deleted, so what analysts saw when stays explainable.
 */
public final class GenerationRanges {
  private GenerationRanges() {}

  /** Why a range cannot be applied, or null when it can. */
  public static String refusal(Connection c, Instant from, Instant to) throws SQLException {
    if (!from.isBefore(to)) {
      return "the range is empty: --from must be before --to";
    }
    if (!from.truncatedTo(ChronoUnit.HOURS).equals(from)
        || !to.truncatedTo(ChronoUnit.HOURS).equals(to)) {
      return "a backfill range must start and end on whole hours (UTC): hour rows cannot be"
          + " split between two generations";
    }
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT f.complete_through_ms - f.allowed_lateness_ms FROM tally.generation_freshness f"
                + " JOIN tally.active_generation a ON a.generation = f.generation")) {
      try (ResultSet rs = ps.executeQuery()) {
        Long finalThrough = rs.next() && rs.getObject(1) != null ? rs.getLong(1) : null;
        if (finalThrough != null && finalThrough < to.toEpochMilli()) {
          return "the range is not final in the live generation yet (final_through "
              + Instant.ofEpochMilli(finalThrough)
              + "): its windows may still change there, while analysts would see the"
              + " backfill's frozen rows; wait until final_through passes "
              + to;
        }
      }
    }
    return null;
  }

  /** Analysts see {@code generation}'s rows for the windows inside [from, to) from now on. */
  public static void apply(Connection c, String generation, Instant from, Instant to)
      throws SQLException {
    TransactionIds.validateName("generation", generation);
    try (PreparedStatement ps =
        c.prepareStatement(
            "INSERT INTO tally.generation_ranges (generation, range_from, range_to) VALUES (?, ?, ?)")) {
      ps.setString(1, generation);
      ps.setTimestamp(2, Timestamp.from(from));
      ps.setTimestamp(3, Timestamp.from(to));
      ps.executeUpdate();
    }
  }

  /** Stops showing {@code generation}'s range; returns whether one was applied. */
  public static boolean rollBack(Connection c, String generation) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "UPDATE tally.generation_ranges SET rolled_back_at = now()"
                + " WHERE generation = ? AND rolled_back_at IS NULL")) {
      ps.setString(1, generation);
      return ps.executeUpdate() == 1;
    }
  }
}
