package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.EnrichedEvent;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.sinks.kafka.AvroCodec;
import dev.tally.sinks.kafka.LoopTopic;
import dev.tally.sinks.postgres.CommittedRows;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The distinct-id persons layout (docs/scale-out.md §14) end to end on real Kafka, PostgreSQL and a
 * Flink mini cluster at parallelism 2: generated traffic with ~2% person links (merges across
 * subtasks through the loop topic), stopped with a savepoint halfway — with loop messages in flight
 * — and resumed. The committed rows equal an expectation computed from the generator (links' ids
 * counted as one person whatever the read order), every valid event is enriched exactly once, the
 * ledger balances, no prepared transaction is left, and the loop was used.
 */
class DistinctIdLayoutIT extends EndToEndTest {
  private static final int PART = 1500;
  private final List<GeneratedEvent> sent = new ArrayList<>();

  @Test
  void shouldCountExactlyWithPersonsKeyedBelowTheProjectAcrossASavepoint() throws Exception {
    kafka.createTopic("raw_dl", 4);
    kafka.createTopic("enriched_dl", 2);
    kafka.createTopic("dlq_dl", 1);
    kafka.createTopic("late_dl", 1);
    TrafficGenerator traffic =
        new TrafficGenerator(23, Instant.now().minus(Duration.ofMinutes(20)), 3, 40);
    List<GeneratedEvent> first = traffic.next(PART);
    List<GeneratedEvent> second = traffic.next(PART);

    produce(first);
    JobClient job = start(null);
    awaitSettled(PART);
    String savepoint =
        job.stopWithSavepoint(
                false, tmp.resolve("sp-dl").toUri().toString(), SavepointFormatType.CANONICAL)
            .get();
    produce(second);
    job = start(savepoint);
    awaitSettled(2 * PART);
    job.stopWithSavepoint(
            false, tmp.resolve("sp-dl-end").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();

    assertThat(postgres.preparedTransactions()).isEmpty();
    try (Connection c = postgres.admin()) {
      assertThat(ExpectedCounts.committed(c, "dl"))
          .as("every event counted once, persons merged across subtasks")
          .isEqualTo(ExpectedCounts.eventCounts(sent));
    }
    assertThat(enrichedUuids()).isEqualTo(validUuids(sent));
    long links =
        sent.stream()
            .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
            .filter(e -> e.event().equals("$identify") || e.event().equals("$create_alias"))
            .count();
    assertThat(links).as("the traffic links persons").isGreaterThan(10);
    assertThat(kafka.readCommitted(LoopTopic.name("persons_loop", "dl")))
        .as("the links went through the loop topic")
        .hasSizeGreaterThan((int) links);
  }

  private JobClient start(String savepoint) throws Exception {
    Configuration config = kafka.jobConfig("dl", "dl", postgres, tmp.resolve("pw-dl"));
    config.setString("tally.parallelism", "2");
    config.setString("tally.source.idleness", "2s");
    config.setString("tally.persons.layout", "distinct-id");
    if (savepoint != null) {
      config.setString("execution.state-recovery.path", savepoint);
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
    IngestionJob.build(env, config);
    return env.executeAsync("tally-ingestion-dl");
  }

  private void produce(List<GeneratedEvent> events) {
    sent.addAll(events);
    kafka.produce("raw_dl", events.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
  }

  /** Every record read and accounted for: nothing parked behind a link any more. */
  private static void awaitSettled(long records) {
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(300))
        .untilAsserted(
            () -> {
              CommittedRows.LedgerTotals l = ledger("dl");
              assertThat(l.consumed()).isEqualTo(records);
              assertThat(l.aggregated() + l.duplicates() + l.tooLate() + l.deadLettered())
                  .isEqualTo(records);
            });
  }

  private static Set<String> enrichedUuids() throws Exception {
    Set<String> uuids = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("enriched_dl")) {
      EnrichedEvent e = AvroCodec.decode(r.value(), EnrichedEvent.class);
      assertThat(uuids.add(e.getUuid())).as("enriched " + e.getUuid() + " twice").isTrue();
    }
    return uuids;
  }

  private static Set<String> validUuids(List<GeneratedEvent> events) {
    Set<String> uuids = new HashSet<>();
    events.stream()
        .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
        .forEach(e -> uuids.add(e.uuid()));
    return uuids;
  }
}
