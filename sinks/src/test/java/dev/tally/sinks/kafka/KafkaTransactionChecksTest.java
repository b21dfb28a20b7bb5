package dev.tally.sinks.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class KafkaTransactionChecksTest {
  private static final long BROKER_MAX = Duration.ofMinutes(15).toMillis();

  @Test
  void shouldAcceptATimeoutBetweenTheRestartBudgetAndTheBrokerCap() {
    assertThat(
            KafkaTransactionChecks.evaluate(
                Duration.ofMinutes(10),
                BROKER_MAX,
                Duration.ofSeconds(5),
                Duration.ofMinutes(5),
                "tally.kafka.transaction-timeout"))
        .isEmpty();
  }

  @Test
  void shouldRefuseATimeoutAboveTheBrokerCap() {
    // Flink's KafkaSink default (1 h) against the broker default cap (15 min)
    assertThat(
            KafkaTransactionChecks.evaluate(
                Duration.ofHours(1),
                BROKER_MAX,
                Duration.ofSeconds(5),
                Duration.ofMinutes(5),
                "tally.kafka.transaction-timeout"))
        .singleElement()
        .asString()
        .contains("exceeds the broker's transaction.max.timeout.ms")
        .contains("Lower tally.kafka.transaction-timeout");
  }

  @Test
  void shouldRefuseATimeoutThatCouldAbortATransactionBeforeItIsCommitted() {
    assertThat(
            KafkaTransactionChecks.evaluate(
                Duration.ofMinutes(1),
                BROKER_MAX,
                Duration.ofMinutes(2),
                Duration.ofMinutes(5),
                "tally.kafka.transaction-timeout"))
        .singleElement()
        .asString()
        .contains("losing data")
        .contains("Raise tally.kafka.transaction-timeout");
  }
}
