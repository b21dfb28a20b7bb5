package dev.tally.cli.demo;

import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * The demo's terminal dashboard, read from the analyst views (what an analyst would see): the
 * freshness stamp, the most recent minutes per event with completeness, and the ledger.
 */
public final class Dashboard {
  private static final DateTimeFormatter HMS =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter FULL =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  /** Ledger totals of the active generation. */
  public record Ledger(
      long consumed,
      long aggregated,
      long duplicates,
      long tooLate,
      long deadLettered,
      long unbalancedRows) {
    public boolean balances() {
      return unbalancedRows == 0 && consumed == aggregated + duplicates + tooLate + deadLettered;
    }

    public String line() {
      return String.format(
          "consumed %,d = aggregated %,d + duplicates %,d + too_late %,d + dead_lettered %,d  %s",
          consumed,
          aggregated,
          duplicates,
          tooLate,
          deadLettered,
          balances() ? "✓ balanced" : "✗ NOT BALANCED");
    }
  }

  private Dashboard() {}

  public static Ledger ledger(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(sum(consumed),0), coalesce(sum(aggregated),0), coalesce(sum(duplicates),0),"
                    + " coalesce(sum(too_late),0), coalesce(sum(dead_lettered),0), count(*) FILTER (WHERE NOT balanced)"
                    + " FROM analytics.ledger")) {
      rs.next();
      return new Ledger(
          rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6));
    }
  }

  public static void print(Connection c, PrintStream out, String title) throws SQLException {
    out.println("── " + title + " ── " + FULL.format(OffsetDateTime.now()));
    try (Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery(
              "SELECT generation, complete_through, final_through, staleness_seconds FROM analytics.freshness")) {
        if (rs.next()) {
          OffsetDateTime complete = rs.getObject(2, OffsetDateTime.class);
          OffsetDateTime fin = rs.getObject(3, OffsetDateTime.class);
          out.printf(
              "generation %s   complete_through %s   final_through %s   staleness %s%n",
              rs.getString(1),
              complete == null ? "—" : FULL.format(complete),
              fin == null ? "—" : FULL.format(fin),
              rs.getObject(4) == null ? "—" : String.format("%.1f s", rs.getDouble(4)));
        } else {
          out.println("no committed watermark yet (the first checkpoint has not completed)");
        }
      }
      out.printf(
          "%-10s %-9s %-14s %8s %8s  %s%n",
          "project", "minute", "event", "events", "persons", "status");
      try (ResultSet rs =
          s.executeQuery(
              "SELECT project, window_start, event, events, persons, is_complete, is_final FROM analytics.event_counts"
                  + " WHERE grain = 'minute' AND window_start >= (SELECT max(window_start) - interval '3 minutes'"
                  + " FROM analytics.event_counts WHERE grain = 'minute')"
                  + " ORDER BY window_start DESC, project, events DESC LIMIT 24")) {
        while (rs.next()) {
          out.printf(
              "%-10s %-9s %-14s %8d %8d  %s%n",
              rs.getString(1),
              HMS.format(rs.getObject(2, OffsetDateTime.class)),
              rs.getString(3),
              rs.getLong(4),
              rs.getLong(5),
              rs.getBoolean(7) ? "final" : rs.getBoolean(6) ? "complete (may be revised)" : "open");
        }
      }
    }
    out.println(ledger(c).line());
  }
}
