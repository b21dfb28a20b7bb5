package dev.tally.jobs.audit;

import dev.tally.sinks.kafka.OpenTransactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code ./tally audit}: checks that every record of a generation is accounted for, comparing what
 * the job committed to PostgreSQL with what Kafka holds, independently of the job's own counters
 * where possible. A running job commits subtask by subtask, so a mismatch is re-checked a few times
 * before it is reported; a real loss or double count persists.
 */
public final class Audit {

  /** One check: what had to hold, what was found. */
  public record Check(String name, boolean ok, String expected, String actual) {}

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

  public record Report(String generation, Instant at, List<Check> checks, List<Warning> warnings) {
    public boolean ok() {
      return checks.stream().allMatch(Check::ok);
    }
  }

  /** Where the generation's data lives. */
  public record Target(
      String generation,
      String bootstrap,
      String rawTopic,
      String enrichedTopic,
      String deadLetterTopic,
      Duration maxPreparedAge) {}

  private Audit() {}

  public static Report run(Connection db, Target t, int attempts, Duration pause) throws Exception {
    Report report = null;
    for (int i = 0; i < attempts; i++) {
      report = once(db, t);
      if (report.ok()) {
        return report;
      }
      Thread.sleep(pause.toMillis());
    }
    return report;
  }

  static Report once(Connection db, Target t) throws Exception {
    String g = t.generation();
    List<Check> checks = new ArrayList<>();
    LedgerTotals ledger = ledgerTotals(db, g);
    long consumed = ledger.consumed();
    long aggregated = ledger.aggregated();
    long tooLate = ledger.tooLate();
    long deadLettered = ledger.deadLettered();
    long rows = ledger.rows();
    long unbalanced = ledger.unbalancedRows();

    checks.add(
        new Check(
            "every ledger row balances (consumed = aggregated + duplicates + too_late + dead_lettered)",
            unbalanced == 0,
            "0 unbalanced rows",
            unbalanced + " unbalanced of " + rows));

    long offsetRecords = 0;
    long kafkaRecords = 0;
    List<String> partitionsWrong = new ArrayList<>();
    try (KafkaCounts kafka = new KafkaCounts(t.bootstrap());
        PreparedStatement ps =
            db.prepareStatement(
                "SELECT DISTINCT ON (topic, partition) topic, partition, first_offset, next_offset, records"
                    + " FROM tally.source_offsets WHERE generation = ? ORDER BY topic, partition, revision DESC")) {
      ps.setString(1, g);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long records = rs.getLong(5);
          long inKafka =
              kafka.countRange(rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getLong(4));
          offsetRecords += records;
          kafkaRecords += inKafka;
          if (records != inKafka) {
            partitionsWrong.add(
                rs.getString(1)
                    + "/"
                    + rs.getInt(2)
                    + ": read "
                    + records
                    + ", Kafka has "
                    + inKafka);
          }
        }
      }
      checks.add(
          new Check(
              "ledger consumed = records read from the raw topic (committed offsets)",
              consumed == offsetRecords,
              String.format("%,d", consumed),
              String.format("%,d", offsetRecords)));
      checks.add(
          new Check(
              "records read = records in Kafka within the committed offset ranges",
              partitionsWrong.isEmpty() && offsetRecords == kafkaRecords,
              String.format("%,d", offsetRecords),
              partitionsWrong.isEmpty()
                  ? String.format("%,d", kafkaRecords)
                  : String.join("; ", partitionsWrong)));

      long mismatchedHours = mismatchedAggregateHours(db, g);
      checks.add(
          new Check(
              "aggregated = sum of minute event_counts, per project and hour",
              mismatchedHours == 0,
              "0 differing hours",
              mismatchedHours + " differing hours"));

      // A generation started from its parent's savepoint wrote only what it processed itself;
      // what it inherited is in the parent's outputs (tally.generation_inheritance).
      Inherited inherited = inherited(db, g);
      String minusInherited = inherited == null ? "" : " - inherited";
      long ownAggregated = aggregated + tooLate;
      long ownDead = deadLettered;
      if (inherited != null) {
        ownAggregated -= inherited.aggregated() + inherited.tooLate();
        ownDead -= inherited.deadLettered();
      }
      // An open transaction holds a partition's last stable offset: read_committed readers see
      // nothing after it. Tell that apart from a real count mismatch, and name the remedy.
      List<OpenTransactions.Open> blocking =
          openTooLong(OpenTransactions.list(t.bootstrap()), t.maxPreparedAge(), Instant.now());
      String blocked = blocking.isEmpty() ? "" : " (" + blockedBy(blocking.get(0)) + ")";
      long enriched = kafka.countAll(t.enrichedTopic(), KafkaCounts.enrichedOf(g));
      checks.add(
          new Check(
              "enriched topic (read_committed) = aggregated + too_late" + minusInherited,
              enriched == ownAggregated,
              String.format("%,d", ownAggregated),
              String.format("%,d", enriched) + (enriched == ownAggregated ? "" : blocked)));
      long dead = kafka.countAll(t.deadLetterTopic(), KafkaCounts.deadLetterOf(g));
      checks.add(
          new Check(
              "dead-letter topic (read_committed) = dead_lettered" + minusInherited,
              dead == ownDead,
              String.format("%,d", ownDead),
              String.format("%,d", dead) + (dead == ownDead ? "" : blocked)));
      checks.add(openTransactionsCheck(blocking, t.maxPreparedAge()));
    }
    List<String> oldPrepared = oldPreparedTransactions(db, t.maxPreparedAge());
    checks.add(
        new Check(
            "no prepared transaction older than " + t.maxPreparedAge().toSeconds() + " s",
            oldPrepared.isEmpty(),
            "none",
            oldPrepared.isEmpty()
                ? "none"
                : oldPrepared.size() + ": " + String.join(", ", oldPrepared)));
    return new Report(g, Instant.now(), checks, warnings(db, g));
  }

  /** The open Kafka transactions of Tally's sinks that are older than {@code maxAge}. */
  static List<OpenTransactions.Open> openTooLong(
      List<OpenTransactions.Open> open, Duration maxAge, Instant now) {
    return open.stream().filter(o -> o.age(now).compareTo(maxAge) > 0).toList();
  }

  /** What blocks readers, and the command that releases it. */
  static String blockedBy(OpenTransactions.Open o) {
    return "blocked by an open transaction of generation "
        + o.generation()
        + " ("
        + o
        + "); if no job of "
        + o.generation()
        + " runs, release it: ./tally release --generation "
        + o.generation();
  }

  static Check openTransactionsCheck(List<OpenTransactions.Open> blocking, Duration maxAge) {
    return new Check(
        "no Kafka transaction of Tally's sinks open longer than "
            + maxAge.toSeconds()
            + " s (it hides everything after it from read_committed readers)",
        blocking.isEmpty(),
        "none",
        blocking.isEmpty()
            ? "none"
            : blocking.size()
                + ": "
                + String.join("; ", blocking.stream().map(Audit::blockedBy).toList()));
  }

  /** Ledger totals a generation took over from its parent's savepoint (blue/green). */
  public record Inherited(long consumed, long aggregated, long tooLate, long deadLettered) {}

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

  /** A generation's ledger summed over its newest row versions. */
  public record LedgerTotals(
      long consumed,
      long aggregated,
      long duplicates,
      long tooLate,
      long deadLettered,
      long rows,
      long unbalancedRows) {}

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

  /** A generation's committed watermark (complete_through, epoch ms), or null before it has one. */
  /** The generation analysts see, or null. */
  public static String activeGeneration(Connection db) throws SQLException {
    try (PreparedStatement ps =
            db.prepareStatement("SELECT generation FROM tally.active_generation");
        ResultSet rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

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

  private static long mismatchedAggregateHours(Connection db, String g) throws SQLException {
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
      ps.setString(1, g);
      ps.setString(2, g);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static List<String> oldPreparedTransactions(Connection db, Duration maxAge)
      throws SQLException {
    List<String> gids = new ArrayList<>();
    try (PreparedStatement ps =
        db.prepareStatement(
            "SELECT gid || ' (prepared ' || date_trunc('second', prepared) || ')' FROM pg_prepared_xacts"
                + " WHERE database = current_database() AND gid LIKE 'tally\\_%'"
                + " AND prepared < now() - make_interval(secs => ?)"
                + " ORDER BY prepared")) {
      ps.setDouble(1, maxAge.toMillis() / 1000.0);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          gids.add(rs.getString(1));
        }
      }
    }
    return gids;
  }

  /** The report as one JSON object, for machines. */
  public static String toJson(Report r) {
    StringBuilder sb = new StringBuilder();
    sb.append("{\"generation\":").append(dev.tally.operators.json.Json.quote(r.generation()));
    sb.append(",\"at\":").append(dev.tally.operators.json.Json.quote(r.at().toString()));
    sb.append(",\"ok\":").append(r.ok()).append(",\"checks\":[");
    for (int i = 0; i < r.checks().size(); i++) {
      Check c = r.checks().get(i);
      sb.append(i > 0 ? "," : "")
          .append("{\"name\":")
          .append(dev.tally.operators.json.Json.quote(c.name()))
          .append(",\"ok\":")
          .append(c.ok())
          .append(",\"expected\":")
          .append(dev.tally.operators.json.Json.quote(c.expected()))
          .append(",\"actual\":")
          .append(dev.tally.operators.json.Json.quote(c.actual()))
          .append('}');
    }
    sb.append("],\"warnings\":[");
    for (int i = 0; i < r.warnings().size(); i++) {
      Warning w = r.warnings().get(i);
      sb.append(i > 0 ? "," : "")
          .append("{\"kind\":")
          .append(dev.tally.operators.json.Json.quote(w.kind()))
          .append(",\"project\":")
          .append(dev.tally.operators.json.Json.quote(w.project()))
          .append(",\"occurrences\":")
          .append(w.occurrences())
          .append('}');
    }
    return sb.append("]}").toString();
  }
}
