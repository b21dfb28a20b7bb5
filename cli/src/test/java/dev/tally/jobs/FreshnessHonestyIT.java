package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.RawEvent;
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
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Freshness honesty, randomized (seeded): out-of-order events, hopelessly late events, an idle
 * partition and one injected failure. While the job runs, the committed stamps are polled in
 * consistent snapshots; for every observed complete_through T, every minute window ending at or
 * before T must already hold exactly its expected count of on-time events, and no window ending at
 * or before final_through may change afterwards. Zero violations.
 */
class FreshnessHonestyIT extends EndToEndTest {
  private static final long SEED = 20261123L;
  private static final String G = "honest";

  @BeforeAll
  static void createTopics() throws Exception {
    kafka.createTopic("raw_h", 3);
    for (String t : List.of("enriched_h", "dlq_h", "late_h")) {
      kafka.createTopic(t, 1);
    }
  }

  /** One generated event: where it goes and whether it is hopelessly late by construction. */
  private record Sent(
      int partition,
      String uuid,
      String project,
      String event,
      long ts,
      boolean veryLate,
      byte[] avro) {}

  /** A consistent snapshot: T, F and the minute rows of windows ending at or before T. */
  private record Observation(long completeThrough, long finalThrough, Map<String, Long> rows) {}

  @Test
  void shouldNeverStampAWindowCompleteBeforeItsOnTimeEventsAreCommitted() throws Exception {
    Random random = new Random(SEED);
    long base = Instant.now().minus(Duration.ofMinutes(15)).toEpochMilli();
    List<List<Sent>> batches = new ArrayList<>();
    List<Sent> all = new ArrayList<>();
    int n = 3000;
    for (int b = 0; b < 30; b++) {
      List<Sent> batch = new ArrayList<>();
      for (int i = b * 100; i < (b + 1) * 100; i++) {
        long jitter = (long) Math.max(-3000, Math.min(3000, random.nextGaussian() * 1500));
        long ts = base + i * 200L + jitter;
        // partition 2 only carries the first 100 events, then goes idle for good
        int partition = i < 100 ? i % 3 : i % 2;
        batch.add(event(random, partition, ts, false));
      }
      if (b == 18) { // hopelessly late: an hour before the stream, after it is well ahead
        for (int k = 0; k < 30; k++) {
          batch.add(event(random, k % 2, base - Duration.ofHours(1).toMillis() + k * 1000L, true));
        }
      }
      batches.add(batch);
      all.addAll(batch);
    }
    assertThat(all).hasSize(n + 30);

    Configuration config = kafka.jobConfig(G, "h", postgres, tmp.resolve("pw"));
    config.setString("tally.checkpoint-interval", "300ms");
    config.setString("tally.source.idleness", "1s");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.configure(
        Configuration.fromMap(
            Map.of(
                RestartStrategyOptions.RESTART_STRATEGY.key(), "fixed-delay",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS.key(), "5",
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY.key(), "300ms")));
    var settings = IngestionJob.settings(config);
    IngestionJob.configureEnvironment(env, config);
    FaultToleranceIT.FailOnceDeserializer failing = new FaultToleranceIT.FailOnceDeserializer();
    TallyTopology.build(
        env,
        IngestionJob.source(config, failing),
        IngestionJob.watermarks(config, settings),
        settings,
        IngestionJob.sinks(config, settings));
    JobClient job = env.executeAsync("freshness-honesty");

    List<Observation> observations = new CopyOnWriteArrayList<>();
    AtomicBoolean polling = new AtomicBoolean(true);
    Thread poller = new Thread(() -> poll(observations, polling), "freshness-poller");
    poller.start();
    int failuresBefore = FaultToleranceIT.FailOnceDeserializer.FAILURES.get();
    for (int b = 0; b < batches.size(); b++) {
      if (b == 15) {
        FaultToleranceIT.FailOnceDeserializer.ARMED.set(true);
      }
      kafka.produceToPartitions(
          "raw_h",
          batches.get(b).stream().map(s -> new Object[] {s.partition(), s.avro()}).toList());
      Thread.sleep(400);
    }
    await()
        .atMost(Duration.ofSeconds(90))
        .untilAsserted(() -> assertThat(ledger(G).consumed()).isEqualTo(all.size()));
    Thread.sleep(1500);
    polling.set(false);
    poller.join();
    job.stopWithSavepoint(
            false, tmp.resolve("sp").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();
    assertThat(FaultToleranceIT.FailOnceDeserializer.FAILURES.get() - failuresBefore)
        .as("failure injected")
        .isEqualTo(1);

    // Expected on-time counts per minute window (project|window|event), independent of the job.
    Map<String, Long> expected = new HashMap<>();
    Set<String> veryLate = new HashSet<>();
    for (Sent s : all) {
      if (s.veryLate()) {
        veryLate.add(s.uuid());
      } else {
        expected.merge(
            s.project() + "|" + Math.floorDiv(s.ts(), 60_000) * 60_000 + "|" + s.event(),
            1L,
            Long::sum);
      }
    }
    Set<String> lateInTopic = new HashSet<>();
    kafka
        .readCommitted("late_h")
        .forEach(
            r -> {
              try {
                lateInTopic.add(AvroCodec.decode(r.value(), RawEvent.class).getUuid());
                assertThat(r.headers().lastHeader("tally.generation"))
                    .as("a too-late record names the generation that wrote it")
                    .isNotNull();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    assertThat(lateInTopic)
        .as("exactly the hopelessly late events are too late")
        .isEqualTo(veryLate);

    Map<String, Long> finalRows =
        new Observation(Long.MAX_VALUE, Long.MAX_VALUE, minuteRows(Long.MAX_VALUE)).rows();
    assertThat(finalRows).isEqualTo(expected);

    long advancing = observations.stream().map(Observation::completeThrough).distinct().count();
    assertThat(advancing).as("complete_through moved during the run").isGreaterThan(5);
    List<String> violations = new ArrayList<>();
    for (Observation o : observations) {
      for (Map.Entry<String, Long> e : expected.entrySet()) {
        long windowEnd = Long.parseLong(e.getKey().split("\\|")[1]) + 60_000;
        if (windowEnd <= o.completeThrough()) {
          Long seen = o.rows().get(e.getKey());
          if (!e.getValue().equals(seen)) {
            violations.add(
                "at complete_through "
                    + Instant.ofEpochMilli(o.completeThrough())
                    + " window "
                    + e.getKey()
                    + " had "
                    + seen
                    + ", expected "
                    + e.getValue());
          }
        }
        if (windowEnd <= o.finalThrough()
            && !finalRows.get(e.getKey()).equals(o.rows().get(e.getKey()))) {
          violations.add(
              "final window "
                  + e.getKey()
                  + " changed after "
                  + Instant.ofEpochMilli(o.finalThrough()));
        }
      }
    }
    assertThat(violations).as("%d observations", observations.size()).isEmpty();
  }

  private static Sent event(Random random, int partition, long ts, boolean veryLate) {
    String uuid = new UUID(random.nextLong(), random.nextLong()).toString();
    String project = random.nextInt(3) == 0 ? "globex" : "acme";
    String event = random.nextInt(4) == 0 ? "signup" : "$pageview";
    RawEvent raw =
        RawEvent.newBuilder()
            .setUuid(uuid)
            .setProject(project)
            .setEvent(event)
            .setDistinctId("u" + random.nextInt(50))
            .setTimestamp(Instant.ofEpochMilli(ts).toString())
            .build();
    return new Sent(partition, uuid, project, event, ts, veryLate, AvroCodec.encode(raw));
  }

  private static void poll(List<Observation> observations, AtomicBoolean polling) {
    while (polling.get()) {
      try (Connection c = postgres.admin()) {
        c.setAutoCommit(false);
        c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ); // one snapshot
        Long complete = null;
        try (PreparedStatement ps =
            c.prepareStatement(
                "SELECT complete_through_ms, allowed_lateness_ms FROM tally.generation_freshness WHERE generation = ?")) {
          ps.setString(1, G);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next() && rs.getObject(1) != null) {
              complete = rs.getLong(1);
              long fin = complete - rs.getLong(2);
              observations.add(new Observation(complete, fin, minuteRows(c, complete)));
            }
          }
        }
        c.commit();
      } catch (Exception e) {
        // keep polling
      }
      try {
        Thread.sleep(150);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static Map<String, Long> minuteRows(long endAtOrBefore) throws Exception {
    try (Connection c = postgres.admin()) {
      return minuteRows(c, endAtOrBefore);
    }
  }

  private static Map<String, Long> minuteRows(Connection c, long endAtOrBefore) throws Exception {
    Map<String, Long> rows = new HashMap<>();
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT DISTINCT ON (project, window_start, event) project, (extract(epoch FROM window_start) * 1000)::bigint, event, events"
                + " FROM tally.event_counts WHERE generation = ? AND grain = 'minute'"
                + " AND (extract(epoch FROM window_start) * 1000)::bigint + 60000 <= ?"
                + " ORDER BY project, window_start, event, revision DESC")) {
      ps.setString(1, G);
      ps.setLong(2, endAtOrBefore);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.put(rs.getString(1) + "|" + rs.getLong(2) + "|" + rs.getString(3), rs.getLong(4));
        }
      }
    }
    return rows;
  }
}
