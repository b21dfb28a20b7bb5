package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.EnrichedEvent;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.SavepointInspection;
import dev.tally.savepoints.SavepointSurgery;
import dev.tally.savepoints.audit.Audit;
import dev.tally.savepoints.upgrade.GreenFromSavepoint;
import dev.tally.sinks.kafka.AvroCodec;
import dev.tally.sinks.postgres.CommittedRows;
import dev.tally.sinks.postgres.GenerationCopy;
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
 * Blue/green from a savepoint, end to end at parallelism 2: blue runs; a savepoint is taken while
 * it keeps running; green starts from that savepoint (without the sinks' state) as a new generation
 * with blue's rows as of the savepoint; traffic continues for both. Green must end with exactly the
 * expectation computed from the generator's intent for all traffic (duplicates of events blue saw
 * before the savepoint are recognised from the inherited dedup state), its Kafka output must hold
 * exactly the events after the savepoint, and blue must keep committing (green did not fence its
 * Kafka transactions) and end exact too. On the distinct-id persons layout ({@link
 * BlueGreenFromSavepointDistinctIdIT}) the merges blue has in flight at the savepoint travel into
 * green's loop topic (docs/scale-out.md §14).
 */
class BlueGreenFromSavepointIT extends EndToEndTest {
  private static final int PART = 1000;

  private final List<GeneratedEvent> sent = new ArrayList<>();

  @Test
  void shouldStartGreenFromBluesSavepointWithoutGapsOrDoubleCounts(
      @InjectMiniCluster MiniCluster cluster) throws Exception {
    kafka.createTopic("raw_bg", 2);
    kafka.createTopic("enriched_bg", 2);
    kafka.createTopic("dlq_bg", 1);
    kafka.createTopic("late_bg", 1);
    TrafficGenerator traffic =
        new TrafficGenerator(7, Instant.now().minus(Duration.ofMinutes(20)), 3, 40);
    List<GeneratedEvent> beforeSavepoint = traffic.next(PART);
    List<GeneratedEvent> afterSavepoint = new ArrayList<>(traffic.next(PART));

    produce(beforeSavepoint);
    JobClient blue = start("bgblue", null);
    awaitConsumed("bgblue", PART);

    String savepoint;
    String greenSavepoint = tmp.resolve("sp-bggreen").toUri().toString();
    try (Connection c = postgres.admin()) {
      GenerationCopy.hold(c, "bgblue", "test");
    }
    savepoint =
        blue.triggerSavepoint(
                tmp.resolve("sp-bgblue").toUri().toString(), SavepointFormatType.CANONICAL)
            .get();
    List<GeneratedEvent> secondPart = afterSavepoint.subList(0, PART / 2);
    produce(secondPart); // blue reads these after the savepoint: green must count them itself
    GreenFromSavepoint.Boundary boundary = GreenFromSavepoint.boundary(savepoint);
    assertThat(boundary.preparedBySubtask()).containsOnlyKeys(0, 1);
    GreenFromSavepoint.awaitCommitted(postgres::admin, "bgblue", boundary, Duration.ofSeconds(60));
    var loop =
        GreenFromSavepoint.inheritLoop(
            savepoint,
            KafkaTestCluster.distinctIdLayout(),
            kafka.bootstrapServers(),
            JobOptions.TOPIC_PERSONS_LOOP.defaultValue(),
            "bgblue",
            "bggreen",
            Duration.ofSeconds(60));
    if (KafkaTestCluster.distinctIdLayout()) {
      assertThat(loop.messages())
          .as(
              "merges were in flight at the savepoint (blue read the first part at once, a merge"
                  + " takes several loop hops): green must get them from blue's loop topic")
          .isPositive();
    } else {
      assertThat(loop).isNull();
    }
    GreenFromSavepoint.stripSinkState(savepoint, greenSavepoint);
    GenerationCopy.Copied inherited;
    try (Connection c = postgres.admin()) {
      inherited =
          GenerationCopy.copyRows(c, "bgblue", "bggreen", boundary.preparedBySubtask(), savepoint);
      GenerationCopy.release(c, "bgblue");
    }
    assertThat(inherited.ledger().consumed())
        .as("green inherits exactly what blue had read at the savepoint")
        .isEqualTo(PART);

    SavepointInspection.Metadata stripped = SavepointInspection.metadata(greenSavepoint);
    assertThat(stripped.has(TallyTopology.Uids.DEDUP)).isTrue();
    if (KafkaTestCluster.distinctIdLayout()) {
      assertThat(stripped.has(TallyTopology.Uids.LINKS) && stripped.has(TallyTopology.Uids.PERSONS))
          .isTrue();
    } else {
      assertThat(stripped.has(TallyTopology.Uids.ENRICH)).isTrue();
    }
    List<String> stateless = new ArrayList<>(GreenFromSavepoint.sinkStateUids());
    stateless.addAll(GreenFromSavepoint.loopStateUids());
    for (String uid : stateless) {
      String id =
          org.apache.flink.state.api.OperatorIdentifier.forUid(uid).getOperatorId().toHexString();
      assertThat(stripped.operators()).noneMatch(o -> o.operatorId().equals(id) && o.bytes() > 0);
    }
    assertThat(SavepointInspection.metadata(savepoint).operators())
        .as("the original savepoint keeps blue's sink state")
        .anyMatch(o -> o.uid().equals(TallyTopology.Uids.SINK_AGGREGATES) && o.bytes() > 0);
    assertThat(SavepointSurgery.sinkOperatorUids("x")).containsExactly("x", "Sink Committer: x");

    // traffic keeps flowing while green starts: blue has open Kafka transactions at that moment
    Thread trickle =
        new Thread(
            () -> {
              List<GeneratedEvent> rest = afterSavepoint.subList(PART / 2, PART);
              for (int i = 0; i < rest.size(); i += 25) {
                produce(rest.subList(i, Math.min(rest.size(), i + 25)));
                sleep(100);
              }
            });
    trickle.start();
    JobClient green = start("bggreen", greenSavepoint);
    trickle.join();
    awaitAccounted("bggreen", 2 * PART, Duration.ofSeconds(120));
    awaitAccounted("bgblue", 2 * PART, Duration.ofSeconds(120));
    FlinkRest rest =
        new HttpFlinkRest(cluster.getRestAddress().get().toString(), Duration.ofSeconds(10));
    for (JobClient job : List.of(blue, green)) {
      assertThat(rest.rootException(job.getJobID().toHexString()))
          .as(
              "no failure or restart (restored with blue's Kafka writer state, green would abort"
                  + " blue's open transactions and fence blue's producers)")
          .isNull();
    }
    green
        .stopWithSavepoint(
            false, tmp.resolve("sp-bggreen-end").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();
    blue.stopWithSavepoint(
            false, tmp.resolve("sp-bgblue-end").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();

    assertThat(postgres.preparedTransactions()).isEmpty();
    try (Connection c = postgres.admin()) {
      assertThat(ExpectedCounts.committed(c, "bggreen"))
          .as("green: every event once, before and after the savepoint")
          .isEqualTo(ExpectedCounts.eventCounts(sent));
      assertThat(ExpectedCounts.committed(c, "bgblue")).isEqualTo(ExpectedCounts.eventCounts(sent));
      assertThat(CommittedRows.ledgerTotals(c, "bggreen"))
          .isEqualTo(CommittedRows.ledgerTotals(c, "bgblue"));
      assertThat(GenerationCopy.parent(c, "bggreen")).isEqualTo("bgblue");
      for (String generation : List.of("bgblue", "bggreen")) {
        Audit.Report audit = Audit.run(c, target(generation), 1, Duration.ZERO);
        assertThat(audit.checks())
            .allSatisfy(
                check ->
                    assertThat(check.ok())
                        .as(generation + ": " + check.name() + ": " + check.actual())
                        .isTrue());
      }
    }
    Set<String> greenOut = enrichedUuids("bggreen");
    if (KafkaTestCluster.distinctIdLayout()) {
      // events blue read before the savepoint but held behind a merge are enriched by green
      Set<String> held = new HashSet<>(greenOut);
      held.removeAll(validUuids(afterSavepoint));
      assertThat(greenOut).containsAll(validUuids(afterSavepoint));
      assertThat(validUuids(beforeSavepoint))
          .as("green enriched, besides the events after the savepoint, only events blue held")
          .containsAll(held);
    } else {
      assertThat(greenOut)
          .as("green's Kafka output: exactly the valid events after the savepoint, each once")
          .isEqualTo(validUuids(afterSavepoint));
    }
    assertThat(enrichedUuids("bgblue")).isEqualTo(validUuids(sent));
  }

  private JobClient start(String generation, String savepoint) throws Exception {
    Configuration config =
        kafka.jobConfig(generation, "bg", postgres, tmp.resolve("pw-" + generation));
    config.setString("tally.parallelism", "2");
    config.setString("tally.source.idleness", "2s");
    if (savepoint != null) {
      config.setString("execution.state-recovery.path", savepoint);
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
    IngestionJob.build(env, config);
    return env.executeAsync("tally-ingestion-" + generation);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private synchronized void produce(List<GeneratedEvent> events) {
    sent.addAll(events);
    kafka.produce("raw_bg", events.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
  }

  private static void awaitConsumed(String generation, long records) {
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(300))
        .untilAsserted(() -> assertThat(ledger(generation).consumed()).isEqualTo(records));
  }

  private static Audit.Target target(String generation) {
    return new Audit.Target(
        generation,
        kafka.bootstrapServers(),
        "raw_bg",
        "enriched_bg",
        "dlq_bg",
        Duration.ofSeconds(30));
  }

  /** The uuids of the generation's committed enriched events; fails on any uuid seen twice. */
  private static Set<String> enrichedUuids(String generation) throws Exception {
    Set<String> uuids = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("enriched_bg")) {
      EnrichedEvent e = AvroCodec.decode(r.value(), EnrichedEvent.class);
      if (generation.equals(e.getGeneration())) {
        assertThat(uuids.add(e.getUuid()))
            .as(generation + " enriched " + e.getUuid() + " twice")
            .isTrue();
      }
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
