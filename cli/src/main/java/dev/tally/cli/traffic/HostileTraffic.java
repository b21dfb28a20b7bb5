package dev.tally.cli.traffic;

import dev.tally.avro.RawEvent;
import dev.tally.sinks.kafka.AvroCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A fixed set of hostile records for {@code ./tally drill --fault hostile-input}, each with what it
 * must yield by SEMANTICS.md §1 (its kind), so the drill checks them like any other traffic: U+0000
 * where it is invalid and where it is data, values of 4 and 60 kB, an oversized record, SQL-looking
 * text, RTL and BOM, deep nesting on both sides of the limit, a huge number, 200 and 201 code
 * points, and one person grown past its size bound by six 60 kB updates. No merges. (The
 * property-based generator of the tests, HostileEvents, explores far more; this set is what a live
 * drill can check exactly.)
 */
public final class HostileTraffic {
  private HostileTraffic() {}

  public static final String PROJECT = "hostile";

  /**
   * @param nowMillis the event time of the traffic they join (each record is 10 ms before the
   *     previous one, so none moves the watermark past that traffic)
   */
  public static List<GeneratedEvent> events(long nowMillis, long seed) {
    List<GeneratedEvent> out = new ArrayList<>();
    java.util.Random r = new java.util.Random(seed);
    String big = "x".repeat(60_000);
    add(out, r, nowMillis, "a\u0000b", "u1", "{}", null, GeneratedEvent.Kind.INVALID);
    add(out, r, nowMillis, "$pageview", "u\u0000", "{}", null, GeneratedEvent.Kind.INVALID);
    add(
        out,
        r,
        nowMillis,
        "$pageview",
        "u1",
        browser("B".repeat(4_000)),
        "B".repeat(4_000),
        GeneratedEvent.Kind.VALID);
    add(
        out,
        r,
        nowMillis,
        "$pageview",
        "u1",
        "{\"$current_url\":\"https://e.com/" + big + "\"}",
        null,
        GeneratedEvent.Kind.VALID);
    add(
        out,
        r,
        nowMillis,
        "$pageview",
        "u1",
        "{\"x\":\"" + "y".repeat(70_000) + "\"}",
        null,
        GeneratedEvent.Kind.INVALID);
    add(
        out,
        r,
        nowMillis,
        "'; DROP TABLE tally.ledger; --",
        "Robert'); --",
        "{}",
        null,
        GeneratedEvent.Kind.VALID);
    add(out, r, nowMillis, "\u202Eevil\u202C", "\uFEFFbom", "{}", null, GeneratedEvent.Kind.VALID);
    add(
        out,
        r,
        nowMillis,
        "deep",
        "u2",
        "{\"d\":" + "[".repeat(400) + "]".repeat(400) + "}",
        null,
        GeneratedEvent.Kind.VALID);
    add(
        out,
        r,
        nowMillis,
        "deep",
        "u2",
        "{\"d\":" + "[".repeat(600) + "]".repeat(600) + "}",
        null,
        GeneratedEvent.Kind.INVALID);
    add(
        out,
        r,
        nowMillis,
        "$pageview",
        "u2",
        "{\"$browser\":1e400}",
        "1e400",
        GeneratedEvent.Kind.VALID);
    add(
        out,
        r,
        nowMillis,
        "$pageview",
        "u2",
        browser("Fire\\u0000fox"),
        "Fire\u0000fox",
        GeneratedEvent.Kind.VALID);
    add(out, r, nowMillis, "😀".repeat(200), "u3", "{}", null, GeneratedEvent.Kind.VALID);
    add(out, r, nowMillis, "😀".repeat(201), "u3", "{}", null, GeneratedEvent.Kind.INVALID);
    for (int i = 0; i < 6; i++) {
      add(
          out,
          r,
          nowMillis,
          "grow",
          "big-person",
          "{\"$set\":{\"k" + i + "\":\"" + big + "\"}}",
          null,
          GeneratedEvent.Kind.VALID);
    }
    return out;
  }

  private static String browser(String jsonEscaped) {
    return "{\"$browser\":\"" + jsonEscaped + "\"}";
  }

  private static void add(
      List<GeneratedEvent> out,
      java.util.Random r,
      long now,
      String event,
      String distinctId,
      String properties,
      String browser,
      GeneratedEvent.Kind kind) {
    String uuid = new UUID(r.nextLong(), r.nextLong()).toString();
    long ts = now - out.size() * 10L;
    byte[] avro =
        AvroCodec.encode(
            RawEvent.newBuilder()
                .setUuid(uuid)
                .setProject(PROJECT)
                .setEvent(event)
                .setDistinctId(distinctId)
                .setTimestamp(java.time.Instant.ofEpochMilli(ts).toString())
                .setProperties(properties)
                .build());
    out.add(new GeneratedEvent(kind, uuid, PROJECT, event, distinctId, ts, browser, avro));
  }
}
