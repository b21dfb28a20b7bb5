package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.EnrichedEvent;
import dev.tally.jobs.traffic.GeneratedEvent;
import dev.tally.jobs.traffic.TrafficGenerator;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.sinks.PostgresForTests;
import dev.tally.sinks.kafka.AvroCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
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
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on real parts: an in-process Kafka broker, an embedded PostgreSQL and a Flink mini
 * cluster at parallelism 2 with RocksDB. A failure is injected after rows have been committed;
 * afterwards every output is compared, as a set, with an expectation computed from the generator's
 * intent (not by the job), and no prepared transaction may be left.
 */
class IngestionJobIT {
  private static final int EVENTS = 3000;

  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  private static KafkaTestCluster kafka;
  private static PostgresForTests postgres;
  @TempDir static Path tmp;

  @BeforeAll
  static void start() throws Exception {
    kafka = KafkaTestCluster.start();
    postgres = PostgresForTests.start();
    kafka.createTopic("events_raw", 2);
    kafka.createTopic("events_enriched", 2);
    kafka.createTopic("events_dead_letter", 1);
    kafka.createTopic("events_late", 1);
  }

  @AfterAll
  static void stop() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldCountEveryEventExactlyOnceAcrossAFailureAndLeaveNoPreparedTransaction()
      throws Exception {
    TrafficGenerator generator =
        new TrafficGenerator(42, Instant.now().minus(Duration.ofMinutes(20)), 3, 40);
    List<GeneratedEvent> firstHalf = generator.next(EVENTS / 2);
    List<GeneratedEvent> secondHalf = generator.next(EVENTS / 2);
    kafka.produce("events_raw", keyValues(firstHalf));

    Path passwordFile = tmp.resolve("pg-password");
    postgres.writerConfig(passwordFile);
    Configuration config = new Configuration();
    config.setString("tally.generation", "it1");
    config.setString("tally.kafka.bootstrap-servers", kafka.bootstrapServers());
    config.setString("tally.postgres.url", postgres.url());
    config.setString("tally.postgres.user", PostgresForTests.WRITER_USER);
    config.setString("tally.postgres.password-file", passwordFile.toString());
    config.setString("tally.checkpoint-interval", "500ms");
    config.setString("tally.parallelism", "2");
    config.setString("tally.source.idleness", "2s");

    IngestionJob.checkKafkaTransactions(config);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.configure(
        Configuration.fromMap(
            Map.of(
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "3",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "200ms")));
    IngestionJob.build(env, config, new FailOnceDeserializer());
    JobClient job = env.executeAsync("tally-ingestion-it1");

    // Rows appear only through committed checkpoints; every committed ledger row balances.
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(300))
        .untilAsserted(
            () -> {
              assertThat(unbalancedLedgerRows()).isZero();
              assertThat(consumed()).isEqualTo(EVENTS / 2);
            });

    FailOnceDeserializer.ARMED.set(true);
    kafka.produce("events_raw", keyValues(secondHalf));
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(300))
        .untilAsserted(
            () -> {
              assertThat(unbalancedLedgerRows()).isZero();
              assertThat(consumed()).isEqualTo(EVENTS);
            });
    assertThat(FailOnceDeserializer.FAILURES.get())
        .as("the injected failure happened")
        .isEqualTo(1);

    job.stopWithSavepoint(
            false, tmp.resolve("savepoints").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();

    List<GeneratedEvent> all = new java.util.ArrayList<>(firstHalf);
    all.addAll(secondHalf);
    assertThat(postgres.preparedTransactions()).isEmpty();
    assertThat(committedEventCounts()).isEqualTo(expectedEventCounts(all));

    Map<String, Long> expectedLedger = expectedLedgerTotals(all);
    assertThat(ledgerTotals()).isEqualTo(expectedLedger);

    List<ConsumerRecord<byte[], byte[]>> enriched = kafka.readCommitted("events_enriched");
    Set<String> enrichedUuids = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : enriched) {
      enrichedUuids.add(AvroCodec.decode(r.value(), EnrichedEvent.class).getUuid());
    }
    Set<String> expectedUuids = new HashSet<>();
    all.stream()
        .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
        .forEach(e -> expectedUuids.add(e.uuid()));
    assertThat(enriched).as("each valid event exactly once").hasSize(expectedUuids.size());
    assertThat(enrichedUuids).isEqualTo(expectedUuids);
    assertThat(kafka.readCommitted("events_dead_letter"))
        .hasSize(expectedLedger.get("dead_lettered").intValue());
    assertThat(kafka.readCommitted("events_late")).isEmpty();
  }

  private static List<byte[][]> keyValues(List<GeneratedEvent> events) {
    return events.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList();
  }

  /** Expected minute rows: valid first copies per (project, minute, event), distinct users. */
  private static Map<String, String> expectedEventCounts(List<GeneratedEvent> all) {
    Map<String, Set<String>> persons = new HashMap<>();
    Map<String, Integer> events = new HashMap<>();
    for (GeneratedEvent e : all) {
      if (e.kind() != GeneratedEvent.Kind.VALID) {
        continue;
      }
      for (String grain : List.of("minute", "hour")) {
        long size = grain.equals("minute") ? 60_000 : 3_600_000;
        long start = Math.floorDiv(e.timestampMillis(), size) * size;
        String key = e.project() + "|" + grain + "|" + start + "|" + e.event();
        events.merge(key, 1, Integer::sum);
        persons.computeIfAbsent(key, k -> new HashSet<>()).add(e.distinctId());
      }
    }
    Map<String, String> expected = new TreeMap<>();
    events.forEach((k, n) -> expected.put(k, n + "/" + persons.get(k).size()));
    return expected;
  }

  private static Map<String, Long> expectedLedgerTotals(List<GeneratedEvent> all) {
    Map<String, Long> m = new TreeMap<>();
    m.put("consumed", (long) all.size());
    m.put("aggregated", all.stream().filter(e -> e.kind() == GeneratedEvent.Kind.VALID).count());
    m.put(
        "duplicates", all.stream().filter(e -> e.kind() == GeneratedEvent.Kind.DUPLICATE).count());
    m.put("too_late", 0L);
    m.put(
        "dead_lettered", all.stream().filter(e -> e.kind() == GeneratedEvent.Kind.INVALID).count());
    return m;
  }

  private static Map<String, String> committedEventCounts() throws Exception {
    Map<String, String> rows = new TreeMap<>();
    try (Connection c = postgres.admin();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT DISTINCT ON (project, grain, window_start, event) project, grain,"
                    + " (extract(epoch FROM window_start) * 1000)::bigint, event, events, persons"
                    + " FROM tally.event_counts WHERE generation = 'it1'"
                    + " ORDER BY project, grain, window_start, event, revision DESC")) {
      while (rs.next()) {
        rows.put(
            rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getLong(3) + "|" + rs.getString(4),
            rs.getLong(5) + "/" + rs.getLong(6));
      }
    }
    return rows;
  }

  private static final String LATEST_LEDGER =
      "(SELECT DISTINCT ON (project, hour) * FROM tally.ledger WHERE generation = 'it1'"
          + " ORDER BY project, hour, revision DESC) l";

  private static long consumed() throws Exception {
    return postgres.queryLong("SELECT coalesce(sum(consumed), 0) FROM " + LATEST_LEDGER);
  }

  private static long unbalancedLedgerRows() throws Exception {
    return postgres.queryLong(
        "SELECT count(*) FROM "
            + LATEST_LEDGER
            + " WHERE consumed <> aggregated + duplicates + too_late + dead_lettered");
  }

  private static Map<String, Long> ledgerTotals() throws Exception {
    Map<String, Long> m = new TreeMap<>();
    try (Connection c = postgres.admin();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT sum(consumed), sum(aggregated), sum(duplicates), sum(too_late), sum(dead_lettered) FROM "
                    + LATEST_LEDGER)) {
      rs.next();
      m.put("consumed", rs.getLong(1));
      m.put("aggregated", rs.getLong(2));
      m.put("duplicates", rs.getLong(3));
      m.put("too_late", rs.getLong(4));
      m.put("dead_lettered", rs.getLong(5));
    }
    return m;
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
