package dev.tally.capture;

import dev.tally.avro.RawEvent;
import dev.tally.operators.json.Json;
import dev.tally.operators.json.JsonException;
import dev.tally.operators.json.JsonNumber;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * A decoded payload as the records of the raw topic (docs/capture.md, "From a payload to raw
 * events"). The door only reads what it must to route an event — its token, distinct_id and time;
 * everything else goes as it was sent and the job validates it, in one place (SEMANTICS.md §1–2).
 * An event the Avro form cannot carry faithfully (a non-string {@code event}, a non-object {@code
 * properties}) goes as its own JSON bytes, which the job dead-letters as {@code malformed}: nothing
 * the door accepted is dropped without a ledger entry.
 */
final class CapturedEvents {
  private CapturedEvents() {}

  /** No token anywhere in the payload: 401, as PostHog answers. */
  static final class NoToken extends Exception {
    NoToken(String message) {
      super(message);
    }
  }

  /** The payload's token and its events, each event a JSON object. */
  record Payload(String token, String sentAt, List<Map<String, Object>> events) {
    /** With the query's {@code _} (milliseconds since the epoch) when the batch has no sent_at. */
    Payload withQuerySentAt(String underscore) {
      if (sentAt != null || underscore == null || !underscore.matches("\\d{12,16}")) {
        return this;
      }
      java.time.Instant i = java.time.Instant.ofEpochMilli(Long.parseLong(underscore));
      if (i.isBefore(java.time.Instant.parse("2021-01-01T00:00:00Z"))) {
        return this; // not a send time (PostHog ignores such values too)
      }
      return new Payload(token, EventTime.format(i), events);
    }
  }

  /** The records of one request, ready for the sink. */
  record Records(String token, List<EventSink.Record> records) {}

  static Payload parse(String json, boolean engage) throws RequestDecoder.BadRequest, NoToken {
    Object root;
    try {
      root = Json.parse(json);
    } catch (JsonException e) {
      throw new RequestDecoder.BadRequest("payload is not JSON: " + e.getMessage());
    }
    String batchToken = null;
    String sentAt = null;
    List<?> items;
    if (root instanceof List<?> list) {
      items = list;
    } else if (root instanceof Map<?, ?> map && map.get("batch") instanceof List<?> batch) {
      items = batch;
      batchToken = firstString(map, "api_key", "token", "$token");
      sentAt = string(map.get("sent_at"));
    } else if (root instanceof Map<?, ?>) {
      items = List.of(root);
    } else {
      throw new RequestDecoder.BadRequest("payload is neither an event, a batch nor an array");
    }
    if (items.isEmpty()) {
      throw new RequestDecoder.BadRequest("the batch holds no events");
    }
    List<Map<String, Object>> events = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      if (!(items.get(i) instanceof Map<?, ?> m)) {
        throw new RequestDecoder.BadRequest("event " + i + " of the batch is not an object");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> event = (Map<String, Object>) m;
      events.add(engage ? fromEngage(event) : event);
    }
    String token = batchToken;
    if (token == null) {
      // no batch token: the events name it, and must agree (PostHog answers 401 otherwise)
      for (Map<String, Object> e : events) {
        String t = eventToken(e);
        if (t != null && token != null && !t.equals(token)) {
          throw new NoToken("the events of the batch carry different project tokens");
        }
        token = token == null ? t : token;
      }
    }
    if (token == null) {
      throw new NoToken(
          "no project token: send it as api_key or token in the batch, or as token in the event"
              + " or its properties");
    }
    if (!validToken(token)) {
      throw new NoToken(
          "not a project token (1-64 printable ASCII characters; a personal phx_ key is refused)");
    }
    return new Payload(token, sentAt, events);
  }

  static boolean validToken(String t) {
    return !t.isEmpty()
        && t.length() <= 64
        && !t.startsWith("phx_")
        && t.chars().allMatch(c -> c > 0x20 && c < 0x7f);
  }

  /** {@code api_key}, {@code token}, {@code $token}, then {@code properties.token}. */
  static String eventToken(Map<String, Object> event) {
    String t = firstString(event, "api_key", "token", "$token");
    if (t == null && event.get("properties") instanceof Map<?, ?> p) {
      t = firstString(p, "token", "$token");
    }
    return t;
  }

  /**
   * A people update of {@code /engage} (mixpanel-style: {@code $distinct_id}, {@code $set}, {@code
   * $set_once}, {@code $unset}) is the {@code $identify} event that PostHog makes of it.
   */
  private static Map<String, Object> fromEngage(Map<String, Object> e) {
    if (e.containsKey("event")) {
      return e;
    }
    Map<String, Object> out = new LinkedHashMap<>(e);
    out.put("event", "$identify");
    Map<String, Object> props =
        e.get("properties") instanceof Map<?, ?> p ? copy(p) : new LinkedHashMap<>();
    for (String key : List.of("$set", "$set_once", "$unset")) {
      if (e.containsKey(key)) {
        props.put(key, e.get(key)); // the people update's own fields win, as in PostHog
        out.remove(key);
      }
    }
    out.put("properties", props);
    return out;
  }

  /**
   * The raw-topic records of a payload. {@code project} is the token's project; the caller has
   * refused an unknown token before.
   */
  static List<EventSink.Record> toRecords(Payload payload, String project, Instant now) {
    List<EventSink.Record> out = new ArrayList<>(payload.events().size());
    for (Map<String, Object> event : payload.events()) {
      out.add(toRecord(event, payload.token(), payload.sentAt(), project, now));
    }
    return out;
  }

  static EventSink.Record toRecord(
      Map<String, Object> event, String token, String batchSentAt, String project, Instant now) {
    Object name = event.get("event");
    Object rawProperties = event.get("properties");
    if ((event.containsKey("event") && !(name instanceof String))
        || (event.containsKey("properties") && !(rawProperties instanceof Map))
        || (event.containsKey("uuid") && !(event.get("uuid") instanceof String))
        || (event.containsKey("timestamp") && !(event.get("timestamp") instanceof String))) {
      // the Avro form cannot say "not a string": the job dead-letters these bytes as malformed
      return new EventSink.Record(null, Json.write(event).getBytes(StandardCharsets.UTF_8));
    }
    Map<String, Object> properties =
        rawProperties instanceof Map<?, ?> p ? copy(p) : new LinkedHashMap<>();
    // posthog-js sends $set/$set_once of $identify beside the properties; the person rules read
    // them inside (a key in both: the top-level one wins, as in PostHog's ingestion)
    for (String key : List.of("$set", "$set_once")) {
      if (event.get(key) instanceof Map<?, ?> top) {
        Map<String, Object> merged =
            properties.get(key) instanceof Map<?, ?> inner ? copy(inner) : new LinkedHashMap<>();
        merged.putAll(copy(top));
        properties.put(key, merged);
      }
    }
    String distinctId = distinctId(event, properties);
    String uuid = string(event.get("uuid"));
    if (uuid == null) {
      // with its own time, an event's content names it (a retry is the same event); without one,
      // two identical events are two events, as in PostHog: a random uuid
      uuid =
          event.get("timestamp") instanceof String
              ? contentUuid(token, event).toString()
              : UUID.randomUUID().toString();
    }
    String timestamp =
        EventTime.resolve(
            string(event.get("timestamp")),
            batchSentAt, // an event's own sent_at is not read, as in PostHog
            offset(event.get("offset")),
            Boolean.TRUE.equals(properties.get("$ignore_sent_at")),
            now);
    // the all-fields constructor: the builder validates and copies every field again
    RawEvent raw =
        new RawEvent(
            uuid,
            project,
            (String) name,
            distinctId,
            timestamp,
            event.containsKey("properties") || !properties.isEmpty()
                ? Json.write(properties)
                : null);
    byte[] key =
        distinctId == null ? null : (project + ":" + distinctId).getBytes(StandardCharsets.UTF_8);
    return new EventSink.Record(key, encode(raw));
  }

  /**
   * Top-level {@code distinct_id}, {@code $distinct_id}, then {@code properties.distinct_id} (a
   * JSON null counts as absent); a number or other non-string is its compact JSON text, as in
   * PostHog. Its length and content are the job's to judge (SEMANTICS.md §1).
   */
  static String distinctId(Map<String, Object> event, Map<String, Object> properties) {
    for (Object v :
        new Object[] {
          event.get("distinct_id"), event.get("$distinct_id"), properties.get("distinct_id")
        }) {
      if (v == null || v == Json.NULL) {
        continue;
      }
      return v instanceof String s ? s : Json.write(v);
    }
    return null;
  }

  private static Long offset(Object v) {
    if (v instanceof JsonNumber n) {
      try {
        return (long) Double.parseDouble(n.literal());
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  /**
   * The uuid of an event sent without one: name-based on the project token and the event exactly as
   * sent, so that an SDK's retry of the same request is a duplicate the job removes, not a second
   * event. Two events that are identical in every field — time included — are one event.
   */
  static UUID contentUuid(String token, Map<String, Object> event) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(token.getBytes(StandardCharsets.UTF_8));
      sha.update((byte) 0);
      Map<String, Object> withoutSendTime = new LinkedHashMap<>(event);
      withoutSendTime.remove("sent_at"); // a retry may be sent at another time
      sha.update(Json.write(withoutSendTime).getBytes(StandardCharsets.UTF_8));
      byte[] h = sha.digest();
      h[6] = (byte) ((h[6] & 0x0f) | 0x80); // version 8: custom, RFC 9562
      h[8] = (byte) ((h[8] & 0x3f) | 0x80);
      long msb = 0;
      long lsb = 0;
      for (int i = 0; i < 8; i++) {
        msb = (msb << 8) | (h[i] & 0xff);
        lsb = (lsb << 8) | (h[8 + i] & 0xff);
      }
      return new UUID(msb, lsb);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A writer and encoder per thread: creating them resolves the schema, per event it cost more than
   * parsing the event (bench, docs/performance.md).
   */
  private static final class Encoding {
    final SpecificDatumWriter<RawEvent> writer = new SpecificDatumWriter<>(RawEvent.class);
    final ByteArrayOutputStream out = new ByteArrayOutputStream(512);
    BinaryEncoder encoder;
  }

  private static final ThreadLocal<Encoding> ENCODING = ThreadLocal.withInitial(Encoding::new);

  static byte[] encode(RawEvent raw) {
    Encoding e = ENCODING.get();
    e.out.reset();
    e.encoder = EncoderFactory.get().binaryEncoder(e.out, e.encoder);
    try {
      e.writer.write(raw, e.encoder);
      e.encoder.flush();
    } catch (IOException x) {
      throw new UncheckedIOException(x);
    }
    return e.out.toByteArray();
  }

  private static String firstString(Map<?, ?> m, String... keys) {
    for (String k : keys) {
      if (m.get(k) instanceof String s && !s.isEmpty()) {
        return s;
      }
    }
    return null;
  }

  private static String string(Object v) {
    return v instanceof String s ? s : null;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> copy(Map<?, ?> m) {
    return new LinkedHashMap<>((Map<String, Object>) m);
  }
}
