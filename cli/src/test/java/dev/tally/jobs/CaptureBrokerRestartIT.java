package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.posthog.server.PostHog;
import com.posthog.server.PostHogCaptureOptions;
import com.posthog.server.PostHogConfig;
import com.posthog.server.PostHogInterface;
import dev.tally.avro.RawEvent;
import dev.tally.capture.CaptureServer;
import dev.tally.capture.KafkaEventSink;
import dev.tally.capture.TokenMap;
import dev.tally.cli.stack.LocalKafka;
import dev.tally.cli.stack.StackLayout;
import dev.tally.sinks.kafka.AvroCodec;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

/**
 * A broker restart in the middle of an SDK's traffic: PostHog's server-side Java SDK
 * (posthog-server 2.3.3) sends through the capture endpoint to a real broker in its own JVM, which
 * is stopped and started again meanwhile. The door answers 503 while it is down, the SDK sends its
 * batches again, and in the end every event the SDK was given is in the raw topic at least once and
 * in the aggregates exactly once (dedup by the SDK's uuid).
 */
class CaptureBrokerRestartIT extends EndToEndTest {
  private static final int EVENTS = 300;
  private static final Duration KAFKA_DOWN = Duration.ofSeconds(12);

  @Test
  void shouldDeliverEveryEventOnceThroughABrokerRestart() throws Exception {
    Path home = Path.of(System.getProperty("user.dir")).getParent();
    int kafkaPort = freePort();
    StackLayout layout =
        new StackLayout(tmp.resolve("restart-stack"), kafkaPort, freePort(), 0, 0, 0, 0);
    LocalKafka broker = new LocalKafka(layout, home);
    broker.start();
    String bootstrap = layout.kafkaBootstrap();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin
          .createTopics(
              List.of("raw_rs", "enriched_rs", "dlq_rs", "late_rs").stream()
                  .map(t -> new NewTopic(t, 2, (short) 1))
                  .toList())
          .all()
          .get();
    }
    KafkaEventSink sink = new KafkaEventSink(bootstrap, "raw_rs");
    CaptureServer door =
        CaptureServer.start("127.0.0.1", 0, new TokenMap(null, Map.of(), true), sink);
    try {
      PostHogInterface posthog =
          PostHog.with(
              new PostHogConfig.Builder("phc_local_acme")
                  .host("http://127.0.0.1:" + door.port())
                  .flushAt(20)
                  .flushIntervalSeconds(1)
                  .remoteConfig(false)
                  .preloadFeatureFlags(false)
                  .sendFeatureFlagEvent(false)
                  .build());
      for (int i = 0; i < EVENTS; i++) {
        if (i == EVENTS / 3) {
          posthog.flush();
          broker.stop(); // mid-traffic: the door answers 503 now
        }
        if (i == EVENTS / 2) {
          // down longer than the door's delivery timeout (8 s): requests are answered 503
          Thread.sleep(KAFKA_DOWN.toMillis());
          broker.start(); // same data and ports
        }
        posthog.capture(
            "user-" + (i % 7),
            i % 10 == 0 ? "purchase" : "$pageview",
            new PostHogCaptureOptions.Builder().property("i", i).build());
        Thread.sleep(10);
      }
      posthog.identify("user-1", Map.of("plan", "pro"), Map.of("first_seen", "today"));
      posthog.alias("user-1", "anon-1");
      posthog.flush();

      // every event the SDK was given reaches the raw topic (its retries, after the 503s)
      int expected = EVENTS + 2;
      Set<String> uuids = new HashSet<>();
      int[] records = {0};
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("group.id", "restart-check");
      p.put("auto.offset.reset", "earliest");
      p.put("key.deserializer", ByteArrayDeserializer.class.getName());
      p.put("value.deserializer", ByteArrayDeserializer.class.getName());
      try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
        c.subscribe(List.of("raw_rs"));
        await()
            .atMost(Duration.ofSeconds(180))
            .pollDelay(Duration.ZERO)
            .until(
                () -> {
                  for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    uuids.add(AvroCodec.decode(r.value(), RawEvent.class).getUuid());
                    records[0]++;
                  }
                  return uuids.size() >= expected;
                });
      }
      posthog.close();
      assertThat(uuids).hasSize(expected);
      assertThat(door.metrics().refusedRequests(503))
          .as("the SDK was answered 503 while the broker was down, and sent again")
          .isPositive();
      System.out.printf(
          "CaptureBrokerRestartIT: %d events, %d records in the raw topic (%d twice), %d requests"
              + " answered 503%n",
          expected, records[0], records[0] - expected, door.metrics().refusedRequests(503));

      // and the job counts each once
      Configuration config = kafka.jobConfig("restart", "rs", postgres, tmp.resolve("pw-rs"));
      config.setString("tally.kafka.bootstrap-servers", bootstrap);
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      IngestionJob.build(env, config);
      JobClient job = env.executeAsync("tally-capture-broker-restart");
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                assertThat(ledger("restart").consumed()).isGreaterThanOrEqualTo(records[0]);
                assertThat(ledger("restart").aggregated()).isEqualTo(expected);
              });
      assertThat(ledger("restart").duplicates()).isEqualTo(ledger("restart").consumed() - expected);
      assertThat(ledger("restart").deadLettered()).isZero();
      assertThat(minuteEvents()).isEqualTo(expected);
      job.cancel().get();
    } finally {
      door.close();
      sink.close();
      broker.stop();
    }
  }

  private static long minuteEvents() throws Exception {
    try (Connection c = postgres.admin();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT coalesce(sum(events), 0) FROM (SELECT DISTINCT ON (project, grain,"
                    + " window_start, event) events FROM tally.event_counts WHERE generation ="
                    + " 'restart' AND grain = 'minute' ORDER BY project, grain, window_start, event,"
                    + " revision DESC) latest")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
