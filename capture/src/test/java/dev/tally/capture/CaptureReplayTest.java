package dev.tally.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.RawEvent;
import dev.tally.operators.json.Json;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Requests recorded from real PostHog SDKs (posthog-node 5.70 with and without gzip, posthog-js
 * 1.449 in Chromium gzip-js and uncompressed, batched and not, and the lz64, base64 and GET forms
 * of older posthog-js; src/test/sdk/record.mjs) are replayed byte for byte at the server's recorded
 * "now": each must be answered 200 and yield exactly the events its line expects — which the
 * recorder computed in JavaScript from the same rules, independently of this decoder.
 */
class CaptureReplayTest {
  private static final MutableClock CLOCK = new MutableClock();
  private static final ScriptedSink SINK = new ScriptedSink();
  private static CaptureServer server;
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  @BeforeAll
  static void start() throws Exception {
    server = CaptureServer.start("127.0.0.1", 0, new TokenMap(null, Map.of(), true), SINK, CLOCK);
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> recorded() throws Exception {
    List<Map<String, Object>> lines = new ArrayList<>();
    try (InputStream in = CaptureReplayTest.class.getResourceAsStream("/sdk-requests.jsonl")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank()) {
          lines.add((Map<String, Object>) Json.parse(line));
        }
      }
    }
    return lines;
  }

  @Test
  @SuppressWarnings("unchecked")
  void shouldYieldTheExpectedEventsOfEveryRecordedSdkRequest() throws Exception {
    List<Map<String, Object>> lines = recorded();
    assertThat(lines).hasSizeGreaterThanOrEqualTo(10);
    Map<String, List<String>> seenByScenario = new LinkedHashMap<>();
    for (Map<String, Object> line : lines) {
      String scenario = (String) line.get("scenario");
      CLOCK.now = Instant.ofEpochMilli(Long.parseLong(line.get("received_at_ms").toString()));
      SINK.acknowledge();
      int before = SINK.all().size();
      HttpResponse<String> response = send(line);
      assertThat(response.statusCode()).as(scenario + ": " + response.body()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("{\"status\":1}");
      List<EventSink.Record> records = SINK.all().subList(before, SINK.all().size());
      List<Map<String, Object>> expected = (List<Map<String, Object>>) line.get("expected");
      assertThat(records).as(scenario).hasSize(expected.size());
      for (int i = 0; i < expected.size(); i++) {
        Map<String, Object> want = expected.get(i);
        RawEvent got = ScriptedSink.decode(records.get(i));
        String where = scenario + " event " + i;
        assertThat(got.getProject()).as(where).isEqualTo(want.get("project"));
        assertThat(got.getEvent()).as(where).isEqualTo(want.get("event"));
        assertThat(got.getDistinctId()).as(where).isEqualTo(want.get("distinct_id"));
        assertThat(got.getTimestamp()).as(where).isEqualTo(want.get("timestamp"));
        if (want.containsKey("uuid")) {
          assertThat(got.getUuid())
              .as(where + ": the SDK's uuid is kept")
              .isEqualTo(want.get("uuid"));
        } else {
          assertThat(got.getUuid()).as(where).isNotBlank();
        }
        assertThat(new String(records.get(i).key(), StandardCharsets.UTF_8))
            .isEqualTo(want.get("project") + ":" + want.get("distinct_id"));
        Map<String, Object> props = Json.parseObject(got.getProperties());
        for (String k : List.of("$set", "$set_once")) {
          if (want.containsKey(k)) {
            assertThat(Json.write(props.get(k)))
                .as(where + " " + k)
                .isEqualTo(Json.write(want.get(k)));
          }
        }
        seenByScenario
            .computeIfAbsent(scenario, s -> new ArrayList<>())
            .add(got.getEvent() + "/" + got.getDistinctId());
      }
      // and what the SDK was asked to send is all there, over the scenario's requests
    }
    for (Map<String, Object> line : lines) {
      for (Object o : (List<Object>) line.get("scenario_events")) {
        Map<String, Object> intent = (Map<String, Object>) o;
        assertThat(seenByScenario.get((String) line.get("scenario")))
            .contains(intent.get("event") + "/" + intent.get("distinct_id"));
      }
    }
    assertThat(SINK.violations).isEmpty();
  }

  @SuppressWarnings("unchecked")
  private static HttpResponse<String> send(Map<String, Object> line) throws Exception {
    byte[] body = Base64.getDecoder().decode((String) line.get("body_base64"));
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + line.get("path")));
    Map<String, Object> headers = (Map<String, Object>) line.get("headers");
    for (Map.Entry<String, Object> h : headers.entrySet()) {
      b.header(h.getKey(), (String) h.getValue());
    }
    String method = (String) line.get("method");
    b.method(
        method,
        body.length == 0
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofByteArray(body));
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
