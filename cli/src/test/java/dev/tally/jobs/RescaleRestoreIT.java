package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.EnrichedEvent;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.savepoints.audit.Audit;
import dev.tally.sinks.kafka.AvroCodec;
import dev.tally.sinks.kafka.OpenTransactions;
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
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * One generation rescaled through savepoints, p=2 → 3 → 1, with traffic before each step: the keyed
 * state (dedup, persons, counts) is redistributed by key group, the sinks' per-subtask state
 * (PostgreSQL writer states, Kafka transactional ids) is taken over by fewer or more subtasks. The
 * rows must end exactly at the generator's expectation, every valid event enriched once, the ledger
 * and the audit clean, and no prepared PostgreSQL or open Kafka transaction left.
 */
class RescaleRestoreIT extends EndToEndTest {
  private static final int PART = 500;

  @Test
  void aGenerationRescaledFromTwoToThreeToOneSubtaskCountsEveryEventExactlyOnce(
      @InjectMiniCluster MiniCluster cluster) throws Exception {
    kafka.createTopic("raw_rs", 4);
    kafka.createTopic("enriched_rs", 2);
    kafka.createTopic("dlq_rs", 1);
    kafka.createTopic("late_rs", 1);
    TrafficGenerator traffic =
        new TrafficGenerator(13, Instant.now().minus(Duration.ofMinutes(30)), 3, 40);
    List<GeneratedEvent> sent = new ArrayList<>();
    String savepoint = null;
    int step = 0;
    for (int parallelism : new int[] {2, 3, 1}) {
      List<GeneratedEvent> part = traffic.next(PART);
      sent.addAll(part);
      kafka.produce("raw_rs", part.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
      JobClient job = start(parallelism, savepoint);
      awaitAccounted("rescale", sent.size(), Duration.ofSeconds(120));
      String plan =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          cluster.getRestAddress().get().resolve("/jobs/" + job.getJobID()))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(plan)
          .as("the count runs at parallelism " + parallelism)
          .containsPattern(
              "\"name\":\"count events and persons\"[^}]*\"parallelism\":" + parallelism);
      savepoint =
          job.stopWithSavepoint(
                  false,
                  tmp.resolve("sp-rescale-" + step++).toUri().toString(),
                  SavepointFormatType.CANONICAL)
              .get();
    }

    assertThat(postgres.preparedTransactions()).as("no prepared transaction left").isEmpty();
    assertThat(OpenTransactions.list(kafka.bootstrapServers()))
        .as("no open Kafka transaction of the generation left")
        .noneMatch(t -> t.transactionalId().contains("rescale"));
    try (Connection c = postgres.admin()) {
      assertThat(ExpectedCounts.committed(c, "rescale"))
          .as("every event counted once across both rescales")
          .isEqualTo(ExpectedCounts.eventCounts(sent));
      Audit.Report audit =
          Audit.run(
              c,
              new Audit.Target(
                  "rescale",
                  kafka.bootstrapServers(),
                  "raw_rs",
                  "enriched_rs",
                  "dlq_rs",
                  Duration.ofSeconds(30)),
              1,
              Duration.ZERO);
      assertThat(audit.checks())
          .allSatisfy(
              check -> assertThat(check.ok()).as(check.name() + ": " + check.actual()).isTrue());
    }
    Set<String> enriched = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("enriched_rs")) {
      String uuid = AvroCodec.decode(r.value(), EnrichedEvent.class).getUuid().toString();
      assertThat(enriched.add(uuid)).as("enriched twice: " + uuid).isTrue();
    }
    Set<String> valid = new HashSet<>();
    sent.stream()
        .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
        .forEach(e -> valid.add(e.uuid()));
    assertThat(enriched).as("every valid event enriched exactly once").isEqualTo(valid);
  }

  private JobClient start(int parallelism, String savepoint) throws Exception {
    Configuration config = kafka.jobConfig("rescale", "rs", postgres, tmp.resolve("pw-rescale"));
    config.set(JobOptions.PARALLELISM, parallelism);
    config.set(JobOptions.SOURCE_IDLENESS, Duration.ofSeconds(2));
    if (savepoint != null) {
      config.setString("execution.state-recovery.path", savepoint);
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
    IngestionJob.build(env, config);
    return env.executeAsync("tally-ingestion-rescale");
  }
}
