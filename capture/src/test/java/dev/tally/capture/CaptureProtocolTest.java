package dev.tally.capture;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.RawEvent;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The capture API v0 as the SDKs use it, against a strict fake of Kafka. */
class CaptureProtocolTest {
  private final MutableClock clock = new MutableClock();
  private final ScriptedSink sink = new ScriptedSink();
  private final HttpClient http = HttpClient.newHttpClient();
  private CaptureServer server;
  @TempDir Path tmp;

  private static final String EVENT =
      "{\"event\":\"signup\",\"distinct_id\":\"u1\",\"uuid\":\"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\","
          + "\"timestamp\":\"2026-12-02T11:59:00Z\",\"properties\":{\"plan\":\"pro\"}}";

  @BeforeEach
  void start() throws Exception {
    Path tokens = tmp.resolve("tokens.properties");
    Files.writeString(tokens, "phc_acme_prod=acme\nphc_local_globex=initech\n");
    server =
        CaptureServer.start(
            "127.0.0.1", 0, new TokenMap(tokens, Map.of("phc_fixed", "globex"), true), sink, clock);
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    assertThat(sink.violations).as("unscripted sends").isEmpty();
  }

  private HttpResponse<String> post(String path, String contentType, byte[] body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String json) throws Exception {
    return post(path, "application/json", json.getBytes(StandardCharsets.UTF_8));
  }

  private String withToken(String token) {
    return "{\"api_key\":\"" + token + "\",\"batch\":[" + EVENT + "]}";
  }

  @Test
  void shouldServeEveryPathWithAndWithoutTheTrailingSlash() throws Exception {
    for (String route : List.of("/e", "/i/v0/e", "/capture", "/track", "/engage", "/batch")) {
      for (String path : List.of(route, route + "/")) {
        sink.acknowledge();
        HttpResponse<String> r = post(path, withToken("phc_acme_prod"));
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"status\":1}");
      }
    }
    assertThat(sink.all()).hasSize(12);
    assertThat(post("/decide/", withToken("phc_acme_prod")).statusCode()).isEqualTo(404);
  }

  @Test
  void shouldAnswerBrowsersPreflightAndEchoTheirOrigin() throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/e/"))
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody())
                .header("Origin", "https://app.example.com")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "content-type")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("access-control-allow-origin"))
        .hasValue("https://app.example.com");
    assertThat(r.headers().firstValue("access-control-allow-credentials")).hasValue("true");
    assertThat(r.headers().firstValue("access-control-allow-methods").orElse("")).contains("POST");
    assertThat(r.headers().firstValue("access-control-allow-headers")).hasValue("content-type");
    assertThat(sink.sent).isEmpty();
  }

  private CompletableFuture<HttpResponse<String>> batchAsync() {
    return http.sendAsync(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/batch/"))
            .POST(HttpRequest.BodyPublishers.ofString(withToken("phc_acme_prod")))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void shouldAnswerOnlyOnceKafkaHasAcknowledgedEveryEvent() throws Exception {
    CompletableFuture<Void> ack = sink.hold();
    CompletableFuture<HttpResponse<String>> pending = batchAsync();
    Thread.sleep(500);
    assertThat(pending).as("no answer before the acknowledgement").isNotDone();
    ack.complete(null);
    assertThat(pending.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void shouldLetARequestHeldByKafkaGetItsAnswerWhenStopped() throws Exception {
    int port = server.port();
    CompletableFuture<Void> ack = sink.hold();
    CompletableFuture<HttpResponse<String>> pending = batchAsync();
    Thread.sleep(500); // read and handed to Kafka, waiting for the acknowledgement
    CompletableFuture<Void> stopped =
        CompletableFuture.runAsync(
            () -> {
              try {
                server.close();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(500);
    assertThat(stopped).as("the stop waits for the held request").isNotDone();
    assertThat(pending).isNotDone();
    HttpResponse<String> late = null;
    try {
      late =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/e/"))
                      .POST(HttpRequest.BodyPublishers.ofString(withToken("phc_acme_prod")))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
    } catch (java.io.IOException refused) {
      // the connector is closed: a new connection is refused, and the SDK retries
    }
    assertThat(late).as("no new request is taken while stopping").isNull();
    ack.complete(null);
    HttpResponse<String> answer = pending.get(10, TimeUnit.SECONDS);
    assertThat(answer.statusCode()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("{\"status\":1}");
    stopped.get(10, TimeUnit.SECONDS);
  }

  @Test
  void shouldAnswer503WhenKafkaCannotTakeTheEvents() throws Exception {
    sink.fail();
    HttpResponse<String> r = post("/batch", withToken("phc_acme_prod"));
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.body()).contains("send again");
    assertThat(server.metrics().refusedRequests(503)).isEqualTo(1);
  }

  @Test
  void shouldRefuseAnUnknownTokenAndCountIt() throws Exception {
    HttpResponse<String> r = post("/e/", withToken("phc_nobody"));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(post("/e/", EVENT).statusCode()).as("no token at all").isEqualTo(401);
    assertThat(post("/e/", withToken("phx_personal_key")).statusCode()).isEqualTo(401);
    assertThat(server.metrics().unknownTokens()).isEqualTo(3);
    assertThat(sink.sent).as("nothing else happens").isEmpty();
  }

  @Test
  void shouldMapTokensFromTheFileTheFlagsAndTheLocalRule() throws Exception {
    for (String[] tp :
        new String[][] {
          {"phc_acme_prod", "acme"},
          {"phc_fixed", "globex"},
          {"phc_local_umbrella", "umbrella"},
          {"phc_local_globex", "initech"} // the file says otherwise
        }) {
      sink.acknowledge();
      assertThat(post("/e/", withToken(tp[0])).statusCode()).isEqualTo(200);
      RawEvent e = ScriptedSink.decode(sink.all().get(sink.all().size() - 1));
      assertThat(e.getProject()).as(tp[0]).isEqualTo(tp[1]);
    }
    assertThat(post("/e/", withToken("phc_local_not valid")).statusCode()).isEqualTo(401);
  }

  @Test
  void shouldTakeEveryShapeAndTokenPlace() throws Exception {
    clock.now = Instant.parse("2026-12-02T12:00:00Z");
    String[] bodies = {
      "[" + EVENT.replace("{\"event\"", "{\"token\":\"phc_acme_prod\",\"event\"") + "]",
      EVENT.replace("{\"event\"", "{\"$token\":\"phc_acme_prod\",\"event\""),
      EVENT.replace("\"plan\":\"pro\"", "\"plan\":\"pro\",\"token\":\"phc_acme_prod\""),
      "{\"token\":\"phc_acme_prod\",\"batch\":[" + EVENT + "],\"sent_at\":\"2026-12-02T12:00:00Z\"}"
    };
    for (String body : bodies) {
      sink.acknowledge();
      assertThat(post("/i/v0/e/", body).statusCode()).as(body).isEqualTo(200);
      RawEvent e = ScriptedSink.decode(sink.all().get(sink.all().size() - 1));
      assertThat(e.getProject()).isEqualTo("acme");
      assertThat(e.getUuid()).isEqualTo("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
      assertThat(e.getDistinctId()).isEqualTo("u1");
      assertThat(e.getTimestamp()).isEqualTo("2026-12-02T11:59:00.000Z");
    }
    String mixed =
        "["
            + EVENT.replace("{\"event\"", "{\"token\":\"phc_acme_prod\",\"event\"")
            + ","
            + EVENT.replace("{\"event\"", "{\"token\":\"phc_fixed\",\"event\"")
            + "]";
    assertThat(post("/batch/", mixed).statusCode()).as("two tokens, no batch token").isEqualTo(401);
  }

  @Test
  void shouldDecodeGzipDeclaredOrNotAndBase64Forms() throws Exception {
    byte[] gz = gzip(withToken("phc_acme_prod"));
    sink.acknowledge().acknowledge().acknowledge().acknowledge();
    assertThat(post("/e/?compression=gzip-js", "text/plain", gz).statusCode()).isEqualTo(200);
    assertThat(post("/batch/", "application/json", gz, "Content-Encoding", "gzip").statusCode())
        .isEqualTo(200);
    assertThat(post("/e/", "text/plain", gz).statusCode()).as("by its magic bytes").isEqualTo(200);
    String b64 =
        java.util.Base64.getEncoder()
            .encodeToString(withToken("phc_acme_prod").getBytes(StandardCharsets.UTF_8));
    assertThat(
            post(
                    "/e/",
                    "application/x-www-form-urlencoded",
                    ("data="
                            + java.net.URLEncoder.encode(b64, StandardCharsets.UTF_8)
                            + "&compression=base64")
                        .getBytes(StandardCharsets.US_ASCII))
                .statusCode())
        .isEqualTo(200);
    assertThat(sink.all()).hasSize(4);
  }

  @Test
  void shouldRefuseWhatCannotBeDecodedWithTheReason() throws Exception {
    HttpResponse<String> r = post("/e/", "{\"event\":");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("not JSON");
    assertThat(post("/e/?compression=gzip", "text/plain", "plain".getBytes()).statusCode())
        .isEqualTo(400);
    assertThat(post("/e/", "application/json", new byte[] {(byte) 0xff, '{', '}'}).statusCode())
        .as("not UTF-8")
        .isEqualTo(400);
    assertThat(post("/batch/", "{\"api_key\":\"phc_acme_prod\",\"batch\":[]}").statusCode())
        .isEqualTo(400);
    assertThat(sink.sent).isEmpty();
  }

  @Test
  void shouldRefuseOverTheLimitsCompressedOrNot() throws Exception {
    String big =
        "{\"api_key\":\"phc_acme_prod\",\"batch\":[{\"event\":\"x\",\"distinct_id\":\"u\","
            + "\"properties\":{\"blob\":\""
            + "a".repeat(CaptureHandler.MAX_EVENT_PATH_BYTES)
            + "\"}}]}";
    assertThat(post("/e/", big).statusCode()).isEqualTo(413);
    assertThat(post("/e/", "text/plain", gzip(big)).statusCode())
        .as("a small gzip that decompresses over the limit")
        .isEqualTo(413);
    String oneHugeEvent =
        "{\"api_key\":\"phc_acme_prod\",\"batch\":[{\"event\":\"x\",\"distinct_id\":\"u\","
            + "\"properties\":{\"blob\":\""
            + "a".repeat(CaptureHandler.MAX_RECORD_BYTES + 10)
            + "\"}}]}";
    assertThat(post("/batch/", oneHugeEvent).statusCode()).as("an event over 1 MB").isEqualTo(413);
    assertThat(sink.sent).isEmpty();
  }

  @Test
  void shouldPassWhatTheJobMustJudgeToTheJobAsItIs() throws Exception {
    sink.acknowledge();
    String odd =
        "{\"api_key\":\"phc_acme_prod\",\"batch\":["
            + "{\"distinct_id\":\"u\",\"uuid\":\"not-a-uuid\"},"
            + "{\"event\":42,\"distinct_id\":\"u\"},"
            + "{\"event\":\"e\",\"distinct_id\":7,\"timestamp\":\"soon\"}]}";
    assertThat(post("/batch/", odd).statusCode()).isEqualTo(200);
    List<EventSink.Record> r = sink.all();
    RawEvent first = ScriptedSink.decode(r.get(0));
    assertThat(first.getEvent()).as("missing: the job says missing_field:event").isNull();
    assertThat(first.getUuid()).isEqualTo("not-a-uuid");
    assertThat(new String(r.get(1).value(), StandardCharsets.UTF_8))
        .as("not representable in Avro: its own bytes, dead-lettered as malformed")
        .isEqualTo("{\"event\":42,\"distinct_id\":\"u\"}");
    RawEvent third = ScriptedSink.decode(r.get(2));
    assertThat(third.getDistinctId()).isEqualTo("7");
    assertThat(third.getTimestamp()).isEqualTo("soon");
  }

  @Test
  void shouldMakeAnEngageUpdateAnIdentifyAndGiveAMissingUuidOneARetryRepeats() throws Exception {
    sink.acknowledge().acknowledge().acknowledge().acknowledge();
    String engage =
        "{\"$token\":\"phc_acme_prod\",\"$distinct_id\":\"u9\",\"$set\":{\"plan\":\"team\"}}";
    assertThat(post("/engage/", engage).statusCode()).isEqualTo(200);
    assertThat(post("/engage/", engage).statusCode()).isEqualTo(200);
    RawEvent a = ScriptedSink.decode(sink.all().get(0));
    RawEvent b = ScriptedSink.decode(sink.all().get(1));
    assertThat(a.getEvent()).isEqualTo("$identify");
    assertThat(a.getDistinctId()).isEqualTo("u9");
    assertThat(a.getProperties()).contains("\"$set\":{\"plan\":\"team\"}");
    assertThat(b.getUuid())
        .as("no time of its own: two identical updates are two events, as in PostHog")
        .isNotEqualTo(a.getUuid());

    String timed =
        "{\"api_key\":\"phc_acme_prod\",\"event\":\"x\",\"distinct_id\":\"u\","
            + "\"timestamp\":\"2026-12-02T11:00:00.000Z\"}";
    assertThat(post("/e/", timed).statusCode()).isEqualTo(200);
    assertThat(post("/e/", timed).statusCode()).isEqualTo(200);
    RawEvent c = ScriptedSink.decode(sink.all().get(2));
    RawEvent d = ScriptedSink.decode(sink.all().get(3));
    assertThat(c.getUuid())
        .matches("[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    assertThat(d.getUuid())
        .as("with its own time, the retry is a duplicate for the job")
        .isEqualTo(c.getUuid());
  }

  @Test
  void shouldLetTheTopLevelSetWinAsPostHogDoes() throws Exception {
    sink.acknowledge();
    String identify =
        "{\"api_key\":\"phc_acme_prod\",\"event\":\"$identify\",\"distinct_id\":\"u\","
            + "\"$set\":{\"plan\":\"top\"},\"properties\":{\"$set\":{\"plan\":\"inner\",\"a\":1}}}";
    assertThat(post("/e/", identify).statusCode()).isEqualTo(200);
    assertThat(ScriptedSink.decode(sink.all().get(0)).getProperties())
        .contains("\"$set\":{\"plan\":\"top\",\"a\":1}");
  }

  @Test
  void shouldRefuseTooManyEventsAndAnswerItsOwnFaults500() throws Exception {
    StringBuilder many = new StringBuilder("{\"api_key\":\"phc_acme_prod\",\"batch\":[");
    for (int i = 0; i <= CaptureHandler.MAX_EVENTS_PER_REQUEST; i++) {
      many.append(i == 0 ? "" : ",").append("{}");
    }
    many.append("]}");
    assertThat(post("/batch/", "text/plain", gzip(many.toString())).statusCode()).isEqualTo(413);
    assertThat(sink.sent).isEmpty();

    sink.throwOnNextSend();
    HttpResponse<String> r = post("/batch/", withToken("phc_acme_prod"));
    assertThat(r.statusCode()).as("retryable, never left unanswered").isEqualTo(500);
    assertThat(r.body()).doesNotContain("scripted");
  }

  @Test
  void shouldPassANonStringTimeOrUuidAsItsOwnBytesForTheJobToDeadLetter() throws Exception {
    sink.acknowledge();
    String odd =
        "{\"api_key\":\"phc_acme_prod\",\"batch\":[{\"event\":\"e\",\"distinct_id\":\"u\","
            + "\"timestamp\":1733140800000},{\"event\":\"e\",\"distinct_id\":\"u\",\"uuid\":7}]}";
    assertThat(post("/batch/", odd).statusCode()).isEqualTo(200);
    assertThat(sink.all()).hasSize(2);
    for (EventSink.Record rec : sink.all()) {
      assertThat(new String(rec.value(), StandardCharsets.UTF_8)).startsWith("{\"event\":\"e\"");
    }
  }

  @Test
  void shouldAnswer503WhileTooManyBodiesAreInFlightAndReleaseThemAfterwards() throws Exception {
    String body = withToken("phc_local_acme");
    int size = body.getBytes(StandardCharsets.UTF_8).length;
    try (CaptureServer small =
        CaptureServer.start(
            "127.0.0.1", 0, new TokenMap(null, Map.of(), true), sink, clock, size + size / 2)) {
      URI uri = URI.create("http://127.0.0.1:" + small.port() + "/batch/");
      CompletableFuture<Void> ack = sink.hold();
      CompletableFuture<HttpResponse<String>> first =
          http.sendAsync(
              HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofString());
      Thread.sleep(500); // the first body is held while Kafka has not acknowledged it
      HttpResponse<String> second =
          http.send(
              HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(second.statusCode()).isEqualTo(503);
      assertThat(second.body()).contains("in flight");
      ack.complete(null);
      assertThat(first.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      sink.acknowledge();
      Thread.sleep(200); // the completion listener has run once the answer is out
      assertThat(
              http.send(
                      HttpRequest.newBuilder(uri)
                          .POST(HttpRequest.BodyPublishers.ofString(body))
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .statusCode())
          .as("released after the answer")
          .isEqualTo(200);
    }
  }

  @Test
  void shouldAnswerABeaconWith204() throws Exception {
    sink.acknowledge();
    assertThat(post("/e/?beacon=1", withToken("phc_acme_prod")).statusCode()).isEqualTo(204);
  }

  private static byte[] gzip(String s) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(out)) {
      g.write(s.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }
}
