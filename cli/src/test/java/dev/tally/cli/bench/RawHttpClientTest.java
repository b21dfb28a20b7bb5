package dev.tally.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.capture.CaptureServer;
import dev.tally.capture.EventSink;
import dev.tally.capture.TokenMap;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** The bench's load generator reads the door's answers, one after another on one connection. */
class RawHttpClientTest {
  @Test
  void sendsRequestsOnOneConnectionAndReadsEveryAnswer() throws Exception {
    List<EventSink.Record> stored = new CopyOnWriteArrayList<>();
    EventSink sink =
        new EventSink() {
          @Override
          public CompletableFuture<Void> send(List<Record> records) {
            stored.addAll(records);
            return CompletableFuture.completedFuture(null);
          }

          @Override
          public void close() {}
        };
    try (CaptureServer door =
            CaptureServer.start("127.0.0.1", 0, new TokenMap(null, Map.of(), true), sink);
        RawHttpClient http = new RawHttpClient(door.port())) {
      byte[] ok =
          RawHttpClient.post(
              door.port(),
              "/batch/",
              gzip(
                  "{\"api_key\":\"phc_local_acme\",\"batch\":[{\"event\":\"a\",\"distinct_id\":\"u\"},"
                      + "{\"event\":\"b\",\"distinct_id\":\"u\"}]}"));
      byte[] unknownToken =
          RawHttpClient.post(
              door.port(), "/batch/", gzip("{\"api_key\":\"nope\",\"batch\":[{\"event\":\"a\"}]}"));
      byte[] undecodable = RawHttpClient.post(door.port(), "/batch/", "not gzip".getBytes());

      assertThat(http.send(ok)).isEqualTo(200);
      assertThat(http.send(unknownToken)).isEqualTo(401);
      assertThat(http.send(undecodable)).isEqualTo(400);
      assertThat(http.send(ok)).isEqualTo(200);
      assertThat(stored).hasSize(4);
    }
  }

  private static byte[] gzip(String json) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(json.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }
}
