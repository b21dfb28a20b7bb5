package dev.tally.capture;

import static org.assertj.core.api.Assertions.assertThat;

import com.posthog.java.PostHog;
import dev.tally.avro.RawEvent;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.Test;

/**
 * The PostHog Java SDK against the door and a real Kafka broker: every event it sends is in {@code
 * events_raw}, keyed {@code project:distinct_id}, with its own uuid; and with the broker gone, a
 * request is answered 503 — not 200 — within the SDKs' 10 s timeout.
 */
class CaptureKafkaIT {
  @Test
  void shouldStoreWhatTheJavaSdkSendsAndAnswer503WithoutKafka() throws Exception {
    KafkaClusterTestKit kafka =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build())
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("transaction.state.log.min.isr", "1")
            .build();
    kafka.format();
    kafka.startup();
    kafka.waitForReadyBrokers();
    String bootstrap = kafka.bootstrapServers();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      admin.createTopics(List.of(new NewTopic("events_raw", 2, (short) 1))).all().get();
    }
    KafkaEventSink sink = new KafkaEventSink(bootstrap, "events_raw");
    CaptureServer server =
        CaptureServer.start("127.0.0.1", 0, new TokenMap(null, Map.of(), true), sink);
    String host = "http://127.0.0.1:" + server.port();
    boolean kafkaUp = true;
    try {
      PostHog posthog = new PostHog.Builder("phc_local_acme").host(host).build();
      Set<String> sent = new HashSet<>();
      for (int i = 0; i < 40; i++) {
        String user = "java-user-" + (i % 5);
        posthog.capture(user, "clicked", Map.of("i", i, "label", "büttön " + i));
        sent.add("clicked/" + user + "/" + i);
      }
      posthog.identify("java-user-0", Map.of("plan", "pro"), Map.of("first", "yes"));
      posthog.alias("java-user-0", "java-anon-0");
      posthog.shutdown(); // flushes its queue

      List<RawEvent> events = consume(bootstrap, 42, Duration.ofSeconds(60));
      assertThat(events).hasSize(42);
      Set<String> got = new HashSet<>();
      Set<String> uuids = new HashSet<>();
      for (RawEvent e : events) {
        assertThat(e.getProject()).isEqualTo("acme");
        assertThat(e.getUuid()).isNotBlank();
        uuids.add(e.getUuid());
        if ("clicked".equals(e.getEvent())) {
          String i = e.getProperties().replaceAll(".*\"i\":(\\d+).*", "$1");
          got.add("clicked/" + e.getDistinctId() + "/" + i);
        }
      }
      assertThat(got).isEqualTo(sent);
      assertThat(uuids).as("one uuid per event").hasSize(42);
      assertThat(events).extracting(RawEvent::getEvent).contains("$identify", "$create_alias");

      kafka.close(); // the broker is gone
      kafkaUp = false;
      long t0 = System.nanoTime();
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(host + "/batch/"))
                      .POST(
                          HttpRequest.BodyPublishers.ofString(
                              "{\"api_key\":\"phc_local_acme\",\"batch\":[{\"event\":\"lost?\","
                                  + "\"distinct_id\":\"u\"}]}"))
                      .timeout(Duration.ofSeconds(30))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      double seconds = (System.nanoTime() - t0) / 1e9;
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(seconds).as("answered within the SDKs' 10 s").isLessThan(10.0);
    } finally {
      server.close();
      sink.close();
      if (kafkaUp) {
        kafka.close();
      }
    }
  }

  private static List<RawEvent> consume(String bootstrap, int expected, Duration timeout)
      throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", "capture-it");
    p.put("auto.offset.reset", "earliest");
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    List<RawEvent> out = new ArrayList<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
      c.subscribe(List.of("events_raw"));
      while (out.size() < expected && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofMillis(500))) {
          RawEvent e =
              new SpecificDatumReader<>(RawEvent.class)
                  .read(null, DecoderFactory.get().binaryDecoder(rec.value(), null));
          assertThat(new String(rec.key(), StandardCharsets.UTF_8))
              .isEqualTo(e.getProject() + ":" + e.getDistinctId());
          out.add(e);
        }
      }
      // nothing more than expected arrives
      for (ConsumerRecord<byte[], byte[]> rec : c.poll(Duration.ofSeconds(2))) {
        out.add(
            new SpecificDatumReader<>(RawEvent.class)
                .read(null, DecoderFactory.get().binaryDecoder(rec.value(), null)));
      }
    }
    return out;
  }
}
