package dev.tally.cli.demo;

import dev.tally.avro.RawEvent;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.operators.json.Json;
import dev.tally.sinks.kafka.AvroCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Generated traffic through the capture endpoint, as posthog-node sends it: gzip batches to {@code
 * /batch/} with the project's {@code phc_local_<project>} token, sent again after a 503 (as the
 * SDKs do). A record HTTP cannot carry — bytes that are not an event — is not sent and counted
 * apart ({@link #notSendable()}), so the expectation covers exactly what went in.
 */
public final class CaptureTraffic implements TrafficSink {
  private static final int BATCH = 200;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final URI batchUri;
  private final Map<String, List<Map<String, Object>>> pending = new LinkedHashMap<>();
  private final Map<String, List<GeneratedEvent.Kind>> pendingKinds = new LinkedHashMap<>();
  private final Map<GeneratedEvent.Kind, Long> sent = new EnumMap<>(GeneratedEvent.Kind.class);
  private long notSendable;
  private long retries;
  private long resentRecords;

  public CaptureTraffic(String captureUrl) {
    this.batchUri = URI.create(captureUrl + "/batch/");
    for (GeneratedEvent.Kind k : GeneratedEvent.Kind.values()) {
      sent.put(k, 0L);
    }
  }

  /** A generated record as PostHog JSON, with the project whose token sends it. */
  public record PostHogEvent(String project, Map<String, Object> json) {}

  /** The PostHog form of a generated record, or null when it is not an event at all. */
  public static PostHogEvent toPostHog(GeneratedEvent e) {
    RawEvent raw;
    try {
      raw = AvroCodec.decode(e.avro(), RawEvent.class);
    } catch (IOException | RuntimeException x) {
      return null;
    }
    if (raw.getProject() == null) {
      return null;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    put(m, "uuid", raw.getUuid());
    put(m, "event", raw.getEvent());
    put(m, "distinct_id", raw.getDistinctId());
    put(m, "timestamp", raw.getTimestamp());
    if (raw.getProperties() != null) {
      m.put("properties", Json.parseTrustedObject(raw.getProperties()));
    }
    return new PostHogEvent(raw.getProject(), m);
  }

  private static void put(Map<String, Object> m, String k, String v) {
    if (v != null) {
      m.put(k, v);
    }
  }

  @Override
  public void send(GeneratedEvent e) {
    PostHogEvent event = toPostHog(e);
    if (event == null) {
      notSendable++;
      return;
    }
    String project = event.project();
    pending.computeIfAbsent(project, p -> new ArrayList<>()).add(event.json());
    pendingKinds.computeIfAbsent(project, p -> new ArrayList<>()).add(e.kind());
    if (pending.get(project).size() >= BATCH) {
      post(project);
    }
  }

  private void post(String project) {
    List<Map<String, Object>> events = pending.remove(project);
    List<GeneratedEvent.Kind> kinds = pendingKinds.remove(project);
    if (events == null || events.isEmpty()) {
      return;
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("api_key", "phc_local_" + project);
    body.put("batch", events);
    byte[] gz = gzip(Json.write(body));
    long backoff = 200;
    for (int attempt = 1; ; attempt++) {
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(batchUri)
                    .timeout(Duration.ofSeconds(15))
                    .header("Content-Type", "application/json")
                    .header("Content-Encoding", "gzip")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(gz))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          kinds.forEach(k -> sent.merge(k, 1L, Long::sum));
          return;
        }
        if (r.statusCode() != 503 || attempt >= 20) {
          throw new IllegalStateException(
              "the capture endpoint answered " + r.statusCode() + ": " + r.body());
        }
      } catch (IOException e) {
        if (attempt >= 20) {
          throw new IllegalStateException("the capture endpoint is unreachable: " + e.getMessage());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while sending to the capture endpoint");
      }
      retries++;
      resentRecords += events.size();
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while sending to the capture endpoint");
      }
      backoff = Math.min(backoff * 2, 5000);
    }
  }

  private static byte[] gzip(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream g = new GZIPOutputStream(out)) {
      g.write(s.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  @Override
  public void flush() {
    for (String project : new ArrayList<>(pending.keySet())) {
      post(project);
    }
  }

  @Override
  public long sent(GeneratedEvent.Kind kind) {
    return sent.get(kind);
  }

  /** Generated records that are not events (junk bytes): HTTP cannot carry them. */
  public long notSendable() {
    return notSendable;
  }

  /** Records in requests sent again (each may be in Kafka twice: partly stored before a 503). */
  public long resentRecords() {
    return resentRecords;
  }

  /** Requests sent again after a 503 or a connection failure. */
  public long retries() {
    return retries;
  }

  @Override
  public void close() {
    flush();
  }
}
