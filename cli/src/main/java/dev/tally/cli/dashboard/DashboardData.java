package dev.tally.cli.dashboard;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the dashboard shows, read from the analyst views only ({@code analytics.*}), so the page
 * sees exactly what an analyst's SQL sees. Every query is parameterized; every value leaves as
 * JSON-ready maps (docs/dashboard.md lists the fields).
 */
public final class DashboardData {
  private DashboardData() {}

  /** A minute window's state: final (never changes), complete (all on-time events), or open. */
  static String state(boolean complete, boolean isFinal) {
    return isFinal ? "final" : complete ? "complete" : "open";
  }

  /**
   * Events and distinct persons per minute, per project and event, for minute windows starting in
   * the {@code minutes} before {@code now} (and the current one).
   */
  public static Map<String, Object> minutes(Connection c, Instant now, int minutes)
      throws SQLException {
    Instant to = now.truncatedTo(ChronoUnit.MINUTES).plus(1, ChronoUnit.MINUTES);
    Instant from = to.minus(minutes + 1L, ChronoUnit.MINUTES);
    List<Object> rows = new ArrayList<>();
    String completeThrough = null;
    String finalThrough = null;
    // one statement, one snapshot: the stamps returned are the ones the rows' states were judged by
    try (PreparedStatement ps =
        c.prepareStatement(
            "WITH f AS (SELECT complete_through, final_through FROM analytics.freshness)"
                + " SELECT (SELECT complete_through FROM f), (SELECT final_through FROM f),"
                + " e.project, e.event, e.window_start, e.events, e.persons, e.is_complete,"
                + " e.is_final"
                + " FROM (SELECT 1) one LEFT JOIN analytics.event_counts e"
                + " ON e.grain = 'minute' AND e.window_start >= ? AND e.window_start < ?"
                + " ORDER BY e.project, e.event, e.window_start")) {
      ps.setTimestamp(1, Timestamp.from(from));
      ps.setTimestamp(2, Timestamp.from(to));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          completeThrough = instant(rs, 1);
          finalThrough = instant(rs, 2);
          if (rs.getString(3) == null) {
            continue; // no rows: only the stamps
          }
          Map<String, Object> r = new LinkedHashMap<>();
          r.put("project", rs.getString(3));
          r.put("event", rs.getString(4));
          r.put("window_start", instant(rs, 5));
          r.put("events", rs.getLong(6));
          r.put("persons", rs.getLong(7));
          r.put("state", state(rs.getBoolean(8), rs.getBoolean(9)));
          rows.add(r);
        }
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("from", from.toString());
    out.put("to", to.toString());
    out.put("complete_through", completeThrough);
    out.put("final_through", finalThrough);
    out.put("rows", rows);
    return out;
  }

  /** The active generation's freshness now, with the database's clock; nulls before a commit. */
  public static Map<String, Object> freshness(Connection c) throws SQLException {
    Map<String, Object> out = new LinkedHashMap<>();
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT now(), f.generation, f.complete_through, f.final_through,"
                    + " f.staleness_seconds, f.last_commit_at, f.slowest_partition,"
                    + " f.slowest_partition_lag_seconds"
                    + " FROM (SELECT 1) one LEFT JOIN analytics.freshness f ON true");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      out.put("wall_clock", instant(rs, 1));
      out.put("generation", rs.getString(2));
      out.put("complete_through", instant(rs, 3));
      out.put("final_through", instant(rs, 4));
      out.put("staleness_seconds", number(rs, 5));
      out.put("last_commit_at", instant(rs, 6));
      out.put("slowest_partition", rs.getString(7));
      out.put("slowest_partition_lag_seconds", number(rs, 8));
    }
    return out;
  }

  /**
   * The ledger per event-time hour over all projects, newest first: {@code consumed = aggregated +
   * duplicates + too_late + dead_lettered} and whether every row of the hour balances. Records
   * without an event time (dead letters that have none) are the hour {@code null}.
   */
  public static Map<String, Object> ledger(Connection c, int hours) throws SQLException {
    List<Object> rows = new ArrayList<>();
    long[] total = new long[5];
    boolean balanced = true;
    try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT hour, sum(consumed), sum(aggregated), sum(duplicates), sum(too_late),"
                    + " sum(dead_lettered), bool_and(balanced)"
                    + " FROM analytics.ledger GROUP BY hour ORDER BY hour DESC NULLS LAST");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        long[] v = new long[5];
        for (int i = 0; i < 5; i++) {
          v[i] = rs.getLong(2 + i);
          total[i] += v[i];
        }
        boolean rowsBalance = rs.getBoolean(7);
        balanced &= rowsBalance;
        if (rows.size() < hours) {
          Map<String, Object> r = ledgerRow(v, rowsBalance);
          r.put("hour", instant(rs, 1));
          rows.add(r);
        }
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("hours", rows);
    out.put("total", ledgerRow(total, balanced));
    return out;
  }

  private static Map<String, Object> ledgerRow(long[] v, boolean rowsBalance) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("hour", null);
    r.put("consumed", v[0]);
    r.put("aggregated", v[1]);
    r.put("duplicates", v[2]);
    r.put("too_late", v[3]);
    r.put("dead_lettered", v[4]);
    r.put("balanced", rowsBalance && v[0] == v[1] + v[2] + v[3] + v[4]);
    return r;
  }

  private static Object number(ResultSet rs, int column) throws SQLException {
    java.math.BigDecimal d = rs.getBigDecimal(column);
    return d == null ? null : new dev.tally.operators.json.JsonNumber(d.toPlainString());
  }

  private static String instant(ResultSet rs, int column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant().toString();
  }
}
