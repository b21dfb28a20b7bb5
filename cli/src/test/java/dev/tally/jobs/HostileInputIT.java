package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.DeadLetter;
import dev.tally.operators.validation.HostileEvents;
import dev.tally.operators.validation.HostileEvents.Hostile;
import dev.tally.sinks.kafka.AvroCodec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * Hostile events through the real sinks (issue "Nothing a client sends…", SEMANTICS.md §1, §7): a
 * jqwik-generated batch — any code point, U+0000 where it is invalid and where it is data, lone
 * surrogates, RTL and BOM, SQL-looking text, breakdown values up to the record limit, deep nesting,
 * huge numbers, persons grown to their bound — goes through Kafka, the job, PostgreSQL and the
 * exactly-once Kafka sinks. Restarts are disabled and no checkpoint failure is tolerated, so a
 * single rejected INSERT or Kafka record fails the test. Every row is then compared with an
 * expectation computed from how each event was built ({@link HostileEvents}), not by the job. The
 * seed is printed; {@code -Dtally.hostile.seed=S} replays one.
 */
class HostileInputIT extends EndToEndTest {
  private static final long SEED = Long.getLong("tally.hostile.seed", System.nanoTime());
  private static final int EVENTS = 400;

  record Row(String project, long windowStart, String event, String property, String value) {}

  @Test
  void shouldCountEveryHostileEventWholeWithoutFailingACheckpoint() throws Exception {
    System.out.println("HostileInputIT seed: " + SEED);
    for (String t : List.of("raw_hostile", "enriched_hostile", "dlq_hostile", "late_hostile")) {
      kafka.createTopic(t, 1);
    }
    List<Hostile> events = HostileEvents.sample(Instant.now(), SEED, EVENTS);
    List<Hostile> valid = events.stream().filter(h -> h.expectedReason() == null).toList();
    List<byte[][]> records = new ArrayList<>();
    events.forEach(h -> records.add(new byte[][] {null, h.avro()}));
    List<Hostile> retried = valid.subList(0, Math.min(20, valid.size()));
    retried.forEach(h -> records.add(new byte[][] {null, h.avro()})); // client retries
    kafka.produce("raw_hostile", records);

    Configuration config = kafka.jobConfig("hostile", "hostile", postgres, tmp.resolve("pw-h"));
    config.setString("tally.breakdowns", "event:$browser;event:$current_url");
    config.setString("tally.parallelism", "2");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.configure(
        Configuration.fromMap(Map.of(RestartStrategyOptions.RESTART_STRATEGY.key(), "none")));
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("tally-hostile-input");

    Map<Row, String> expectedCounts = expectedEventCounts(valid);
    Map<Row, String> expectedBreakdowns = expectedBreakdowns(valid);
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              assertThat(job.getJobStatus().get().isGloballyTerminalState())
                  .as("the job keeps running: no checkpoint failed, nothing restarted")
                  .isFalse();
              assertThat(ledger("hostile").consumed()).isEqualTo(records.size());
              try (Connection c = postgres.admin()) {
                assertThat(committedEventCounts(c)).isEqualTo(expectedCounts);
                assertThat(committedBreakdowns(c)).isEqualTo(expectedBreakdowns);
              }
            });
    assertThat(ledger("hostile").unbalancedRows()).isZero();
    assertThat(ledger("hostile").aggregated()).isEqualTo(valid.size());
    assertThat(ledger("hostile").duplicates()).isEqualTo(retried.size());
    job.stopWithSavepoint(
            false, tmp.resolve("sp-hostile").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();

    Set<String> enriched = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("enriched_hostile")) {
      assertThat(r.headers().lastHeader("tally.generation").value())
          .isEqualTo("hostile".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      enriched.add(
          AvroCodec.decode(r.value(), dev.tally.avro.EnrichedEvent.class).getUuid().toLowerCase());
    }
    assertThat(enriched)
        .as("every valid event enriched once")
        .isEqualTo(new HashSet<>(valid.stream().map(h -> h.uuid().toLowerCase()).toList()));
    List<String> reasons = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("dlq_hostile")) {
      reasons.add(AvroCodec.decode(r.value(), DeadLetter.class).getReason());
    }
    assertThat(reasons)
        .containsExactlyInAnyOrderElementsOf(
            events.stream().map(Hostile::expectedReason).filter(r -> r != null).toList());
    assertThat(postgres.preparedTransactions()).isEmpty();
  }

  private static Map<Row, String> expectedEventCounts(List<Hostile> valid) {
    Map<Row, Integer> events = new HashMap<>();
    Map<Row, Set<String>> persons = new HashMap<>();
    for (Hostile h : valid) {
      for (long size : new long[] {60_000, 3_600_000}) {
        Row k =
            new Row(
                h.project(),
                Math.floorDiv(h.timestampMillis(), size) * size,
                h.event(),
                size == 60_000 ? "minute" : "hour",
                null);
        events.merge(k, 1, Integer::sum);
        persons.computeIfAbsent(k, x -> new HashSet<>()).add(h.distinctId());
      }
    }
    Map<Row, String> expected = new TreeMap<>(ORDER);
    events.forEach((k, n) -> expected.put(k, n + "/" + persons.get(k).size()));
    return expected;
  }

  private static Map<Row, String> expectedBreakdowns(List<Hostile> valid) {
    Map<Row, Integer> events = new HashMap<>();
    Map<Row, Set<String>> persons = new HashMap<>();
    for (Hostile h : valid) {
      long hour = Math.floorDiv(h.timestampMillis(), 3_600_000L) * 3_600_000L;
      for (Row k :
          List.of(
              new Row(h.project(), hour, h.event(), "event:$browser", h.browser()),
              new Row(h.project(), hour, h.event(), "event:$current_url", h.url()))) {
        events.merge(k, 1, Integer::sum);
        persons.computeIfAbsent(k, x -> new HashSet<>()).add(h.distinctId());
      }
    }
    Map<Row, String> expected = new TreeMap<>(ORDER);
    events.forEach((k, n) -> expected.put(k, n + "/" + persons.get(k).size()));
    return expected;
  }

  private static final java.util.Comparator<Row> ORDER =
      java.util.Comparator.comparing(Row::toString);

  private static Map<Row, String> committedEventCounts(Connection c) throws Exception {
    return query(
        c,
        "SELECT DISTINCT ON (project, grain, window_start, event) project,"
            + " (extract(epoch FROM window_start) * 1000)::bigint, event, grain, NULL, events, persons"
            + " FROM tally.event_counts WHERE generation = 'hostile'"
            + " ORDER BY project, grain, window_start, event, revision DESC");
  }

  private static Map<Row, String> committedBreakdowns(Connection c) throws Exception {
    return query(
        c,
        "SELECT DISTINCT ON (project, window_start, event, property, value_sha256) project,"
            + " (extract(epoch FROM window_start) * 1000)::bigint, event, property, value, events,"
            + " persons FROM tally.breakdown_counts WHERE generation = 'hostile'"
            + " ORDER BY project, window_start, event, property, value_sha256, revision DESC");
  }

  private static Map<Row, String> query(Connection c, String sql) throws Exception {
    Map<Row, String> rows = new TreeMap<>(ORDER);
    try (PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.put(
            new Row(
                rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5)),
            rs.getLong(6) + "/" + rs.getLong(7));
      }
    }
    return rows;
  }
}
