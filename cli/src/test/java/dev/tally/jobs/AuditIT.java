package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.savepoints.audit.Audit;
import dev.tally.sinks.PostgresForTests;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The audit names each kind of violation (lost rows, double counts, leftovers). */
class AuditIT {
  private static KafkaTestCluster kafka;
  private static PostgresForTests postgres;

  @BeforeAll
  static void start() throws Exception {
    kafka = KafkaTestCluster.start();
    postgres = PostgresForTests.start();
    kafka.createTopic("raw_a", 1);
    kafka.createTopic("enriched_a", 1);
    kafka.createTopic("dlq_a", 1);
  }

  @AfterAll
  static void stop() throws Exception {
    postgres.close();
    kafka.close();
  }

  @Test
  void shouldReportEachViolation() throws Exception {
    // Kafka holds 3 raw records; the "job" claims to have read 4 and aggregated one more than it
    // counted.
    kafka.produce(
        "raw_a",
        List.of(
            new byte[][] {null, new byte[] {1}},
            new byte[][] {null, new byte[] {2}},
            new byte[][] {null, new byte[] {3}}));
    try (Connection c = postgres.admin();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO tally.generations (generation, max_out_of_orderness_ms, allowed_lateness_ms) VALUES ('a', 10000, 300000)");
      s.execute(
          "INSERT INTO tally.ledger VALUES ('a', 'acme', '2026-11-23T10:00:00Z', 1, 4, 3, 0, 0, 0)");
      s.execute("INSERT INTO tally.source_offsets VALUES ('a', 'raw_a', 0, 1, 0, 4, 4)");
      s.execute(
          "INSERT INTO tally.event_counts (generation, project, grain, window_start, event, revision, events, persons)"
              + " VALUES ('a', 'acme', 'minute', '2026-11-23T10:05:00Z', 'x', 1, 2, 1)");
      s.execute(
          "BEGIN; INSERT INTO tally.generations VALUES ('b', 1, 1); PREPARE TRANSACTION 'tally_b_aggregates_0_1'");
    }
    Thread.sleep(1100);
    try (Connection c = postgres.admin()) {
      Audit.Report r =
          Audit.run(
              c,
              new Audit.Target(
                  "a",
                  kafka.bootstrapServers(),
                  "raw_a",
                  "enriched_a",
                  "dlq_a",
                  Duration.ofSeconds(1)),
              1,
              Duration.ZERO);
      assertThat(r.ok()).isFalse();
      assertThat(r.checks())
          .filteredOn(check -> !check.ok())
          .extracting(Audit.Check::name)
          .anyMatch(n -> n.startsWith("every ledger row balances"))
          .anyMatch(n -> n.startsWith("records read = records in Kafka"))
          .anyMatch(n -> n.startsWith("aggregated = sum of minute event_counts"))
          .anyMatch(n -> n.startsWith("enriched topic"))
          .anyMatch(n -> n.startsWith("no prepared transaction older"));
      assertThat(Audit.toJson(r)).startsWith("{\"generation\":\"a\"").contains("\"ok\":false");
    } finally {
      try (Connection c = postgres.admin();
          Statement s = c.createStatement()) {
        s.execute("ROLLBACK PREPARED 'tally_b_aggregates_0_1'");
      }
    }
  }
}
