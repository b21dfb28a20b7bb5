package dev.tally.jobs;

import dev.tally.jobs.audit.Audit;
import dev.tally.sinks.PostgresForTests;
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
  static Audit.LedgerTotals ledger(String generation) throws Exception {
    try (Connection c = postgres.admin()) {
      return Audit.ledgerTotals(c, generation);
    }
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
