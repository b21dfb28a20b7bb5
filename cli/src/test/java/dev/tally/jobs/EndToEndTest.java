package dev.tally.jobs;

import dev.tally.sinks.PostgresForTests;
import dev.tally.sinks.postgres.CommittedRows;
import java.nio.file.Path;
import java.sql.Connection;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real parts for end-to-end tests: an in-process Kafka broker (KRaft), an embedded PostgreSQL 17
 * with Tally's schema, and a Flink mini cluster with one TaskManager of four slots (room for blue
 * and green at parallelism 2).
 */
abstract class EndToEndTest {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(4)
              .build());

  static KafkaTestCluster kafka;
  static PostgresForTests postgres;
  @TempDir static Path tmp;

  @BeforeAll
  static void startKafkaAndPostgres() throws Exception {
    kafka = KafkaTestCluster.start();
    postgres = PostgresForTests.start();
  }

  /** The generation's committed ledger, summed over the newest row versions. */
  static CommittedRows.LedgerTotals ledger(String generation) throws Exception {
    try (Connection c = postgres.admin()) {
      return CommittedRows.ledgerTotals(c, generation);
    }
  }

  /**
   * Waits until {@code records} were consumed and every one is accounted for, both read from one
   * snapshot of the ledger. Two reads would race: rows balanced in the first, the last records'
   * consumption committed by the second while their outcomes still wait (with persons keyed below
   * the project, an event behind a merge is accounted for a few checkpoints after it was read).
   */
  static void awaitAccounted(String generation, long records, java.time.Duration atMost) {
    // G1: on the project layout every committed ledger row balances whenever it is read; with
    // persons below the project an event's consumption may be committed before its outcome (G29)
    boolean everyMoment = !KafkaTestCluster.distinctIdLayout();
    java.util.concurrent.atomic.AtomicReference<String> unbalanced =
        new java.util.concurrent.atomic.AtomicReference<>();
    org.awaitility.Awaitility.await()
        .atMost(atMost)
        .pollInterval(java.time.Duration.ofMillis(300))
        .ignoreExceptions() // PostgreSQL may be down on purpose
        .untilAsserted(
            () -> {
              CommittedRows.LedgerTotals l = ledger(generation);
              if (everyMoment && l.unbalancedRows() > 0) {
                unbalanced.compareAndSet(null, l.toString());
              }
              org.assertj.core.api.Assertions.assertThat(l.consumed() + "/" + l.unbalancedRows())
                  .as("records consumed / ledger rows not balanced")
                  .isEqualTo(records + "/0");
            });
    org.assertj.core.api.Assertions.assertThat(unbalanced.get())
        .as("a committed ledger row that did not balance when it was read (G1)")
        .isNull();
  }

  @AfterAll
  static void stopKafkaAndPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }
}
