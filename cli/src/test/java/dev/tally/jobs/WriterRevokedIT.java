package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.EnrichedEvent;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.audit.Audit;
import dev.tally.savepoints.audit.Stalls;
import dev.tally.sinks.kafka.AvroCodec;
import java.net.URI;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectClusterRESTAddress;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * The seed incident, "a database writer failed silently for a day": the writer login loses its
 * INSERT grant while traffic flows. Every ledger check still holds (nothing new is committed), so
 * only the stall checks can see it: within a minute they fail and name the job's state and last
 * exception. Once the grant is back, every record arrives — none lost, none twice — compared as
 * sets with the generator's intent, and no prepared transaction is left.
 */
class WriterRevokedIT extends EndToEndTest {
  private static final String G = "revoked";
  private static final Duration STALL_AFTER = Duration.ofSeconds(15);

  @Test
  void shouldReportTheStallWithinAMinuteAndLoseNothingOnceTheGrantIsBack(
      @InjectClusterRESTAddress URI rest) throws Exception {
    String raw = "raw_" + G;
    kafka.createTopic(raw, 2);
    for (String t : List.of("enriched_", "dlq_", "late_")) {
      kafka.createTopic(t + G, 1);
    }
    TrafficGenerator generator =
        new TrafficGenerator(7, Instant.now().minus(Duration.ofMinutes(5)), 3, 40);
    List<GeneratedEvent> sent = new ArrayList<>(generator.next(1000));
    produce(raw, sent);

    Configuration config = kafka.jobConfig(G, G, postgres, tmp.resolve("pw-" + G));
    config.setString("tally.parallelism", "2");
    config.setString("tally.source.idleness", "2s");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.configure(
        Configuration.fromMap(
            Map.of(
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "1000",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "1s")));
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("tally-ingestion-" + G);
    awaitConsumed(1000);

    postgres.execute("REVOKE INSERT ON tally.event_counts FROM tally_writer");
    Instant revoked = Instant.now();
    List<GeneratedEvent> more = generator.next(1000);
    sent.addAll(more);
    produce(raw, more);

    FlinkRest flink =
        new HttpFlinkRest(rest.toString().replaceAll("/$", ""), Duration.ofSeconds(10));
    List<Audit.Check> stalled =
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofSeconds(1))
            .until(() -> stallChecks(flink, job.getJobID().toHexString()), c -> !c.get(0).ok());
    System.out.println(
        "stall seen after " + Duration.between(revoked, Instant.now()) + ": " + stalled);
    assertThat(stalled.get(0).actual())
        .contains("last commit at")
        .contains("wait beyond the committed offsets")
        .contains("job " + job.getJobID().toHexString());
    try (Connection c = postgres.admin()) {
      assertThat(ledger(G).unbalancedRows()).as("the ledger checks alone see nothing").isZero();
    }

    postgres.execute("GRANT INSERT ON tally.event_counts TO tally_writer");
    awaitConsumed(2000);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () ->
                assertThat(stallChecks(flink, job.getJobID().toHexString()))
                    .allSatisfy(c -> assertThat(c.ok()).as(c.name() + ": " + c.actual()).isTrue()));
    job.stopWithSavepoint(
            false, tmp.resolve("sp-" + G).toUri().toString(), SavepointFormatType.CANONICAL)
        .get();

    assertThat(postgres.preparedTransactions()).isEmpty();
    try (Connection c = postgres.admin()) {
      assertThat(ExpectedCounts.committed(c, G)).isEqualTo(ExpectedCounts.eventCounts(sent));
    }
    Set<String> expected = new HashSet<>();
    sent.stream()
        .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
        .forEach(e -> expected.add(e.uuid()));
    List<ConsumerRecord<byte[], byte[]>> enriched = kafka.readCommitted("enriched_" + G);
    Set<String> uuids = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : enriched) {
      uuids.add(AvroCodec.decode(r.value(), EnrichedEvent.class).getUuid());
    }
    assertThat(enriched).as("each valid event exactly once").hasSize(expected.size());
    assertThat(uuids).isEqualTo(expected);
  }

  private List<Audit.Check> stallChecks(FlinkRest flink, String jobId) throws Exception {
    try (Connection c = postgres.admin()) {
      return Stalls.checks(
          c,
          G,
          kafka.bootstrapServers(),
          "raw_" + G,
          STALL_AFTER,
          new Stalls.JobHealth(jobId, flink.jobState(jobId), flink.rootException(jobId)),
          Instant.now());
    }
  }

  private void produce(String topic, List<GeneratedEvent> events) {
    kafka.produce(topic, events.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
  }

  private void awaitConsumed(long n) {
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .ignoreExceptions()
        .untilAsserted(() -> assertThat(ledger(G).consumed()).isEqualTo(n));
  }
}
