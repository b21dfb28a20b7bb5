package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.posthog.java.PostHog;
import dev.tally.capture.CaptureServer;
import dev.tally.capture.KafkaEventSink;
import dev.tally.capture.TokenMap;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * From a PostHog SDK to the analysts' rows: the PostHog Java SDK and posthog-node-shaped batches go
 * through the capture endpoint into Kafka, the job and PostgreSQL. An SDK's retry of a request it
 * got no answer to is a duplicate the job removes (the uuid is kept); an event the door can parse
 * but the contract refuses is dead-lettered with its reason, not dropped; an unknown token is
 * refused 401 and reaches nothing. The counts equal what was sent, per project and event.
 */
class CaptureEndToEndIT extends EndToEndTest {
  @Test
  void shouldCountWhatSdksSendThroughTheDoorExactlyOnce() throws Exception {
    for (String t : java.util.List.of("raw_cap", "enriched_cap", "dlq_cap", "late_cap")) {
      kafka.createTopic(t, 2);
    }
    KafkaEventSink sink = new KafkaEventSink(kafka.bootstrapServers(), "raw_cap");
    CaptureServer door =
        CaptureServer.start(
            "127.0.0.1", 0, new TokenMap(null, Map.of("phc_prod_globex", "globex"), true), sink);
    String host = "http://127.0.0.1:" + door.port();
    Map<String, Long> expected = new TreeMap<>();
    try {
      PostHog posthog = new PostHog.Builder("phc_local_acme").host(host).build();
      for (int i = 0; i < 30; i++) {
        posthog.capture("user-" + (i % 4), i % 3 == 0 ? "signup" : "$pageview", Map.of("i", i));
        expected.merge("acme/" + (i % 3 == 0 ? "signup" : "$pageview"), 1L, Long::sum);
      }
      posthog.shutdown();

      StringBuilder batch = new StringBuilder("{\"api_key\":\"phc_prod_globex\",\"batch\":[");
      String now = Instant.now().toString();
      for (int i = 0; i < 10; i++) {
        batch
            .append(i == 0 ? "" : ",")
            .append("{\"event\":\"purchase\",\"distinct_id\":\"buyer-")
            .append(i)
            .append("\",\"uuid\":\"")
            .append(UUID.randomUUID())
            .append("\",\"timestamp\":\"")
            .append(now)
            .append("\",\"properties\":{\"$browser\":\"Firefox\"}}");
        expected.merge("globex/purchase", 1L, Long::sum);
      }
      batch.append(",{\"event\":\"broken\",\"distinct_id\":\"x\",\"uuid\":\"not-a-uuid\"}]");
      batch.append(",\"sent_at\":\"").append(now).append("\"}");
      HttpClient http = HttpClient.newHttpClient();
      for (int attempt = 0; attempt < 2; attempt++) { // the SDK sends it again: no duplicate counts
        assertThat(post(http, host + "/batch/", batch.toString()).statusCode()).isEqualTo(200);
      }
      assertThat(
              post(
                      http,
                      host + "/e/",
                      "{\"api_key\":\"phc_unknown\",\"event\":\"x\",\"distinct_id\":\"y\"}")
                  .statusCode())
          .isEqualTo(401);

      Configuration config = kafka.jobConfig("cap", "cap", postgres, tmp.resolve("pw-cap"));
      StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
      IngestionJob.build(env, config);
      JobClient job = env.executeAsync("tally-capture-e2e");
      long records = 30 + 2 * 11;
      await()
          .atMost(Duration.ofSeconds(120))
          .pollInterval(Duration.ofMillis(500))
          .untilAsserted(
              () -> {
                assertThat(ledger("cap").consumed()).isEqualTo(records);
                assertThat(eventCounts()).isEqualTo(expected);
              });
      assertThat(ledger("cap").aggregated()).isEqualTo(40);
      assertThat(ledger("cap").duplicates())
          .as("the batch's valid events sent again")
          .isEqualTo(10);
      assertThat(ledger("cap").deadLettered())
          .as("not-a-uuid, each time it came: invalid records are not deduplicated")
          .isEqualTo(2);
      assertThat(ledger("cap").unbalancedRows()).isZero();
      var dead = kafka.readCommitted("dlq_cap");
      assertThat(dead).hasSize(2);
      for (var d : dead) {
        assertThat(
                dev.tally.sinks.kafka.AvroCodec.decode(d.value(), dev.tally.avro.DeadLetter.class)
                    .getReason())
            .isEqualTo("invalid_field:uuid");
      }
      job.cancel().get();
    } finally {
      door.close();
      sink.close();
    }
  }

  private static HttpResponse<String> post(HttpClient http, String url, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static Map<String, Long> eventCounts() throws Exception {
    Map<String, Long> m = new TreeMap<>();
    try (Connection c = postgres.admin();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT project, event, sum(events) FROM (SELECT DISTINCT ON (project, grain,"
                    + " window_start, event) project, event, events FROM tally.event_counts"
                    + " WHERE generation = 'cap' AND grain = 'minute'"
                    + " ORDER BY project, grain, window_start, event, revision DESC) latest"
                    + " GROUP BY project, event")) {
      while (rs.next()) {
        m.put(rs.getString(1) + "/" + rs.getString(2), rs.getLong(3));
      }
    }
    return m;
  }
}
