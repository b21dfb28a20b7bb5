package dev.tally.savepoints.audit;

import dev.tally.sinks.kafka.OpenTransactions;
import dev.tally.sinks.postgres.CommittedRows;
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

  public record Report(
      String generation, Instant at, List<Check> checks, List<CommittedRows.Warning> warnings) {
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
    CommittedRows.LedgerTotals ledger = CommittedRows.ledgerTotals(db, g);
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
    try (KafkaCounts kafka = new KafkaCounts(t.bootstrap())) {
      for (CommittedRows.SourceOffsets o : CommittedRows.sourceOffsets(db, g)) {
        long inKafka = kafka.countRange(o.topic(), o.partition(), o.firstOffset(), o.nextOffset());
        offsetRecords += o.records();
        kafkaRecords += inKafka;
        if (o.records() != inKafka) {
          partitionsWrong.add(
              o.topic() + "/" + o.partition() + ": read " + o.records() + ", Kafka has " + inKafka);
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

      long mismatchedHours = CommittedRows.mismatchedAggregateHours(db, g);
      checks.add(
          new Check(
              "aggregated = sum of minute event_counts, per project and hour",
              mismatchedHours == 0,
              "0 differing hours",
              mismatchedHours + " differing hours"));

      // A generation started from its parent's savepoint wrote only what it processed itself;
      // what it inherited is in the parent's outputs (tally.generation_inheritance).
      CommittedRows.Inherited inherited = CommittedRows.inherited(db, g);
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
    return new Report(g, Instant.now(), checks, CommittedRows.warnings(db, g));
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
      CommittedRows.Warning w = r.warnings().get(i);
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
