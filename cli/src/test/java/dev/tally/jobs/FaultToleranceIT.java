package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.EnrichedEvent;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.savepoints.audit.Audit;
import dev.tally.sinks.kafka.AvroCodec;
import dev.tally.sinks.postgres.CommittedRows;
import dev.tally.sinks.postgres.PostgresTwoPhaseSink;
import java.io.IOException;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once under faults, end to end on real parts: an in-process Kafka broker, an embedded
 * PostgreSQL and a Flink mini cluster at parallelism 2 with RocksDB. Each test sends 3,000
 * generated events (with client retries and invalid records), injects one fault after rows were
 * committed, and then compares every output, as a set, with an expectation computed from the
 * generator's intent (not by the job): committed event_counts, ledger totals, the enriched topic
 * read with read_committed, the dead-letter topic; no prepared transaction may be left, and every
 * committed ledger row must balance at every moment it is observed.
 */
class FaultToleranceIT extends EndToEndTest {
  private static final int EVENTS = 3000;

  @Test
  void shouldCountEveryEventExactlyOnceWhenTheJobFailsAfterACheckpoint() throws Exception {
    Scenario s = new Scenario("afterckpt");
    int before = FailOnceDeserializer.FAILURES.get(); // shared with other ITs in this JVM
    s.run(() -> FailOnceDeserializer.ARMED.set(true), s.deserializerFailing(), false);
    assertThat(FailOnceDeserializer.FAILURES.get() - before)
        .as("the injected failure happened")
        .isEqualTo(1);
    s.assertExactlyOnce();
  }

  @Test
  void shouldNotCommitRowsTwiceWhenACheckpointFailsAfterThePrepare() throws Exception {
    Scenario s = new Scenario("insnapshot");
    int before = FailingSnapshotSink.FAILURES.get();
    s.run(
        () -> FailingSnapshotSink.ARMED.set(true), new IngestionJob.ValidatingDeserializer(), true);
    assertThat(FailingSnapshotSink.FAILURES.get() - before)
        .as("the injected failure happened")
        .isEqualTo(1);
    s.assertExactlyOnce();
  }

  @Test
  void shouldRecoverExactlyOnceWhenTheTaskManagerIsLost(@InjectMiniCluster MiniCluster cluster)
      throws Exception {
    Scenario s = new Scenario("tmloss");
    s.run(
        () -> {
          cluster.terminateTaskManager(0).get();
          cluster.startTaskManager();
        },
        new IngestionJob.ValidatingDeserializer(),
        false);
    s.assertExactlyOnce();
  }

  @Test
  void shouldRecoverExactlyOnceWhenPostgresCrashesMidRun() throws Exception {
    Scenario s = new Scenario("pgcrash");
    s.run(
        () -> postgres.crashAndRestart(Duration.ofSeconds(3)),
        new IngestionJob.ValidatingDeserializer(),
        false);
    s.assertExactlyOnce();
  }

  private interface Fault {
    void inject() throws Exception;
  }

  /** One generation with its own topics, traffic and expectation. */
  private static final class Scenario {
    private final String generation;
    private final String raw;
    private final List<GeneratedEvent> sent = new ArrayList<>();
    private final Configuration config;

    Scenario(String generation) throws Exception {
      this.generation = generation;
      this.raw = "raw_" + generation;
      kafka.createTopic(raw, 2);
      kafka.createTopic("enriched_" + generation, 2);
      kafka.createTopic("dlq_" + generation, 1);
      kafka.createTopic("late_" + generation, 1);
      config =
          kafka.jobConfig(
              generation, generation, postgres, tmp.resolve("pg-password-" + generation));
      config.setString("tally.parallelism", "2");
      config.setString("tally.source.idleness", "2s");
    }

    KafkaRecordDeserializationSchema<ParsedRecord> deserializerFailing() {
      return new FailOnceDeserializer();
    }

    void run(
        Fault fault,
        KafkaRecordDeserializationSchema<ParsedRecord> deserializer,
        boolean failingSnapshots)
        throws Exception {
      TrafficGenerator generator =
          new TrafficGenerator(
              generation.hashCode(), Instant.now().minus(Duration.ofMinutes(20)), 3, 40);
      List<GeneratedEvent> firstHalf = generator.next(EVENTS / 2);
      List<GeneratedEvent> secondHalf = generator.next(EVENTS / 2);
      produce(firstHalf);

      IngestionJob.checkKafkaTransactions(config);
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.configure(
          Configuration.fromMap(
              Map.of(
                  RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                  RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "30",
                  RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "500ms")));
      var settings = IngestionJob.settings(config);
      IngestionJob.configureEnvironment(env, config);
      TallyTopology.Sinks sinks = IngestionJob.sinks(config, settings);
      if (failingSnapshots) {
        sinks =
            new TallyTopology.Sinks(
                sinks.enriched(),
                sinks.deadLetters(),
                sinks.tooLate(),
                new FailingSnapshotSink((PostgresTwoPhaseSink) sinks.aggregates()),
                null);
      }
      TallyTopology.build(
          env,
          IngestionJob.source(config, deserializer),
          IngestionJob.watermarks(config, settings),
          settings,
          sinks,
          IngestionJob.loop(config, settings, true));
      JobClient job = env.executeAsync("tally-ingestion-" + generation);

      awaitConsumed(EVENTS / 2); // rows are visible only through committed checkpoints
      fault.inject();
      produce(secondHalf);
      awaitConsumed(EVENTS);
      job.stopWithSavepoint(
              false,
              tmp.resolve("savepoints-" + generation).toUri().toString(),
              SavepointFormatType.CANONICAL)
          .get();
    }

    private void produce(List<GeneratedEvent> events) {
      sent.addAll(events);
      kafka.produce(raw, events.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
    }

    private void awaitConsumed(long expected) {
      awaitAccounted(generation, expected, Duration.ofSeconds(120));
    }

    /**
     * Every output checked, and every difference reported in one failure (a rare failure must
     * explain itself: which rows, which ledger column, which topic).
     */
    void assertExactlyOnce() throws Exception {
      SoftAssertions soft = new SoftAssertions();
      soft.assertThat(postgres.preparedTransactions()).as("prepared transactions").isEmpty();
      try (Connection c = postgres.admin()) {
        soft.assertThat(
                rowDifferences(
                    ExpectedCounts.eventCounts(sent), ExpectedCounts.committed(c, generation)))
            .as("event_counts rows that differ (expected events/persons -> committed)")
            .isEmpty();
      }
      Map<String, Long> expectedLedger = expectedLedgerTotals();
      soft.assertThat(ledgerTotals())
          .as(() -> "ledger totals; the versions left in the table:\n" + ledgerVersions())
          .isEqualTo(expectedLedger);

      List<ConsumerRecord<byte[], byte[]>> enriched = kafka.readCommitted("enriched_" + generation);
      Set<String> uuids = new HashSet<>();
      for (ConsumerRecord<byte[], byte[]> r : enriched) {
        uuids.add(AvroCodec.decode(r.value(), EnrichedEvent.class).getUuid());
      }
      Set<String> expectedUuids = new HashSet<>();
      sent.stream()
          .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
          .forEach(e -> expectedUuids.add(e.uuid()));
      soft.assertThat(enriched).as("each valid event exactly once").hasSize(expectedUuids.size());
      soft.assertThat(uuids).as("enriched uuids").isEqualTo(expectedUuids);
      soft.assertThat(kafka.readCommitted("dlq_" + generation))
          .as("dead letters")
          .hasSize(expectedLedger.get("dead_lettered").intValue());
      soft.assertThat(kafka.readCommitted("late_" + generation)).as("too-late topic").isEmpty();

      try (Connection c = postgres.admin()) {
        Audit.Report audit =
            Audit.run(
                c,
                new Audit.Target(
                    generation,
                    kafka.bootstrapServers(),
                    raw,
                    "enriched_" + generation,
                    "dlq_" + generation,
                    Duration.ofSeconds(30)),
                1,
                Duration.ZERO);
        for (Audit.Check check : audit.checks()) {
          soft.assertThat(check.ok()).as("audit " + check.name() + ": " + check.actual()).isTrue();
        }
        soft.assertThat(audit.checks()).hasSize(8);
      }
      soft.assertThat(missing(uuids)).as("valid events missing from the enriched topic").isEmpty();
      soft.assertAll();
    }

    /** The valid events sent but not in the enriched topic, with what links their persons. */
    private List<String> missing(Set<String> enrichedUuids) {
      Set<String> linked = new HashSet<>();
      for (GeneratedEvent e : sent) {
        String a =
            e.kind() == GeneratedEvent.Kind.VALID ? TrafficGenerator.linkedDistinctId(e) : null;
        if (a != null) {
          linked.add(e.project() + ":" + e.distinctId());
          linked.add(e.project() + ":" + a);
        }
      }
      List<String> missing = new ArrayList<>();
      for (int i = 0; i < sent.size(); i++) {
        GeneratedEvent e = sent.get(i);
        if (e.kind() == GeneratedEvent.Kind.VALID && !enrichedUuids.contains(e.uuid())) {
          String id = e.project() + ":" + e.distinctId();
          String a = TrafficGenerator.linkedDistinctId(e);
          missing.add(
              "sent#"
                  + i
                  + " "
                  + e.uuid()
                  + " "
                  + id
                  + " "
                  + e.event()
                  + " "
                  + java.time.Instant.ofEpochMilli(e.timestampMillis())
                  + (linked.contains(id) ? " (id in a link)" : "")
                  + (a != null ? " links " + a : ""));
        }
      }
      return missing;
    }

    /**
     * Every ledger version still in the table (compaction deletes superseded ones), oldest first.
     */
    private String ledgerVersions() {
      StringBuilder b = new StringBuilder();
      try (Connection c = postgres.admin();
          var ps =
              c.prepareStatement(
                  "SELECT project, hour, revision, consumed, aggregated, duplicates, too_late,"
                      + " dead_lettered, sink_subtask, sink_checkpoint FROM tally.ledger"
                      + " WHERE generation = ? ORDER BY project, hour, revision")) {
        ps.setString(1, generation);
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            for (int i = 1; i <= 10; i++) {
              b.append(rs.getString(i)).append(i < 10 ? " " : "\n");
            }
          }
        }
      } catch (java.sql.SQLException e) {
        b.append("(not readable: ").append(e.getMessage()).append(')');
      }
      return b.toString();
    }

    private static Map<String, String> rowDifferences(
        Map<String, String> expected, Map<String, String> committed) {
      Map<String, String> diff = new TreeMap<>();
      Set<String> keys = new HashSet<>(expected.keySet());
      keys.addAll(committed.keySet());
      for (String k : keys) {
        String e = expected.get(k);
        String c = committed.get(k);
        if (!java.util.Objects.equals(e, c)) {
          diff.put(k, e + " -> " + c);
        }
      }
      return diff;
    }

    private Map<String, Long> expectedLedgerTotals() {
      Map<String, Long> m = new TreeMap<>();
      m.put("consumed", (long) sent.size());
      m.put("aggregated", sent.stream().filter(e -> e.kind() == GeneratedEvent.Kind.VALID).count());
      m.put(
          "duplicates",
          sent.stream().filter(e -> e.kind() == GeneratedEvent.Kind.DUPLICATE).count());
      m.put("too_late", 0L);
      m.put(
          "dead_lettered",
          sent.stream().filter(e -> e.kind() == GeneratedEvent.Kind.INVALID).count());
      return m;
    }

    private Map<String, Long> ledgerTotals() throws Exception {
      CommittedRows.LedgerTotals l = ledger(generation);
      Map<String, Long> m = new TreeMap<>();
      m.put("consumed", l.consumed());
      m.put("aggregated", l.aggregated());
      m.put("duplicates", l.duplicates());
      m.put("too_late", l.tooLate());
      m.put("dead_lettered", l.deadLettered());
      return m;
    }
  }

  /** The real deserializer, which throws once on the first record read after being armed. */
  static final class FailOnceDeserializer
      implements KafkaRecordDeserializationSchema<ParsedRecord> {
    static final AtomicBoolean ARMED = new AtomicBoolean();
    static final AtomicInteger FAILURES = new AtomicInteger();
    private final IngestionJob.ValidatingDeserializer delegate =
        new IngestionJob.ValidatingDeserializer();

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ParsedRecord> out)
        throws IOException {
      if (ARMED.compareAndSet(true, false)) {
        FAILURES.incrementAndGet();
        throw new IOException("injected failure (test)");
      }
      delegate.deserialize(record, out);
    }

    @Override
    public TypeInformation<ParsedRecord> getProducedType() {
      return delegate.getProducedType();
    }
  }
}
