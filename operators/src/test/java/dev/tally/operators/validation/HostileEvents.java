package dev.tally.operators.validation;

import dev.tally.avro.RawEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * Hostile events, as an attacker or a buggy SDK would send them: any code point (U+0000, lone
 * surrogates, RTL overrides, BOMs, line separators), SQL-looking text, values up to the record
 * limit, deep nesting, huge numbers. Each event carries what an independent model says about it
 * (the expected validity and breakdown rendering), computed here from how it was built, not by the
 * code under test. Shared by the operator properties and the end-to-end {@code HostileInputIT}.
 */
public final class HostileEvents {
  private HostileEvents() {}

  /** Text pieces that broke, or could break, a store. */
  static final List<String> NASTY =
      List.of(
          "\u0000",
          "a\u0000b",
          "\u202Eevil\u202C",
          "\uFEFF",
          "\u2028\u2029",
          "\uD800",
          "\uDFFF",
          "😀",
          "\r\n",
          "\\",
          "\"",
          "'; DROP TABLE tally.ledger; --",
          "Robert'); DELETE FROM tally.sink_commits WHERE true; --",
          "$1 %s %n {0}",
          "\\x00",
          "NULL",
          "\u0085\u00A0",
          "ﷺ",
          "\u0007\u001b[31m");

  /**
   * One hostile event.
   *
   * @param avro the Kafka record value
   * @param expectedReason the dead-letter reason SEMANTICS.md §1–2 gives it, or null if valid
   * @param event {@code event} as stored (lone surrogates become '?', as UTF-8 encoding does)
   * @param distinctId {@code distinct_id} as stored
   * @param browser the expected rendering of {@code event:$browser}
   * @param url the expected rendering of {@code event:$current_url}
   */
  public record Hostile(
      byte[] avro,
      String uuid,
      String project,
      String event,
      String distinctId,
      long timestampMillis,
      String expectedReason,
      String browser,
      String url) {}

  /** A piece of hostile text of {@code 0..maxPieces} parts, some long. */
  public static Arbitrary<String> text(int maxPieces, int maxRepeat) {
    Arbitrary<String> anyCodePoint =
        Arbitraries.integers().between(0, 0x10FFFF).map(cp -> new String(Character.toChars(cp)));
    Arbitrary<String> piece =
        Arbitraries.frequencyOf(
            Tuple.of(4, Arbitraries.of(NASTY)),
            Tuple.of(4, anyCodePoint),
            Tuple.of(2, Arbitraries.strings().ofMinLength(1).ofMaxLength(8)),
            Tuple.of(
                1,
                Combinators.combine(
                        Arbitraries.of(NASTY), Arbitraries.integers().between(1, maxRepeat))
                    .as(String::repeat)));
    return piece.list().ofMaxSize(maxPieces).map(l -> String.join("", l));
  }

  /** Events of two projects over a few hostile distinct_ids; timestamps within the last 20 s. */
  public static Arbitrary<Hostile> events(Instant now) {
    Arbitrary<String> ids =
        Arbitraries.frequencyOf(
            Tuple.of(
                3, Arbitraries.of("u\u0000", "👩‍💻", "'; --", "\u202Eid", "user-1", "\uFEFFx")),
            Tuple.of(1, text(6, 50)));
    Arbitrary<String> eventNames =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.of("$pageview", "click", "a\u0000", "ع")),
            Tuple.of(2, text(8, 60)));
    Arbitrary<Object> browser =
        Arbitraries.frequencyOf(
            Tuple.of(4, text(10, 3000).map(s -> (Object) s)),
            Tuple.of(
                1,
                Arbitraries.of("1e400", "-0", "123456789012345678901234567890123", "1.0", "true")
                    .map(Literal::new)),
            Tuple.of(1, Arbitraries.just(Absent.INSTANCE)));
    Arbitrary<Integer> urlLength =
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.just(-1)),
            Tuple.of(2, Arbitraries.integers().between(1, 4000)),
            Tuple.of(1, Arbitraries.integers().between(2700, 70_000)));
    Arbitrary<Integer> nesting =
        Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.just(0)),
            Tuple.of(1, Arbitraries.integers().between(1, 500)),
            // deeper than Json's limit of 512 levels: the whole properties are invalid
            Tuple.of(1, Arbitraries.integers().between(520, 700)));
    Arbitrary<Integer> setBytes =
        Arbitraries.frequencyOf(
            Tuple.of(4, Arbitraries.just(0)),
            Tuple.of(1, Arbitraries.integers().between(1000, 60_000)));
    Arbitrary<Boolean> escapedSurrogate =
        Arbitraries.frequencyOf(
            Tuple.of(9, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true)));
    return Combinators.combine(
            Arbitraries.of("acme", "beta"),
            eventNames,
            ids,
            Arbitraries.integers().between(0, 20_000),
            browser,
            Combinators.combine(urlLength, text(3, 10)).as(HostileEvents::url),
            Combinators.combine(nesting, setBytes, escapedSurrogate, Arbitraries.longs())
                .as(Extras::new))
        .as(
            (project, event, id, ageMs, b, url, extras) ->
                build(now, project, event, id, ageMs, b, url, extras));
  }

  private record Literal(String text) {}

  private enum Absent {
    INSTANCE
  }

  private record Extras(int nesting, int setBytes, boolean escapedSurrogate, long seed) {}

  private static String url(int length, String tail) {
    if (length < 0) {
      return null;
    }
    StringBuilder sb = new StringBuilder("https://example.com/");
    Random r = new Random(length);
    while (sb.length() < length) {
      sb.append((char) ('a' + r.nextInt(26)));
    }
    return sb.append(tail).toString();
  }

  private static Hostile build(
      Instant now,
      String project,
      String event,
      String distinctId,
      int ageMs,
      Object browser,
      String url,
      Extras x) {
    StringBuilder props = new StringBuilder("{");
    String browserRendering = "(none)";
    if (browser instanceof String s) {
      props.append("\"$browser\":").append(jsonString(s));
      browserRendering = stored(s).replace("\u0000", "\\u0000");
    } else if (browser instanceof Literal l) {
      props.append("\"$browser\":").append(l.text());
      browserRendering = l.text();
    }
    String urlRendering = "(none)";
    if (url != null) {
      props.append(props.length() > 1 ? "," : "").append("\"$current_url\":");
      props.append(jsonString(url));
      urlRendering = stored(url).replace("\u0000", "\\u0000");
    }
    if (x.setBytes() > 0) {
      // grows the person: many events like this one push it to the streaming job's cap
      props.append(props.length() > 1 ? "," : "").append("\"$set\":{");
      props.append(jsonString("big-" + Long.toHexString(x.seed() & 0xff)));
      props.append(':').append(jsonString("p".repeat(x.setBytes()))).append('}');
    }
    if (x.nesting() > 0) {
      props.append(props.length() > 1 ? "," : "").append("\"deep\":");
      props.append("[".repeat(x.nesting())).append("]".repeat(x.nesting()));
    }
    if (x.escapedSurrogate()) {
      props.append(props.length() > 1 ? "," : "").append("\"lone\":\"\\ud83d\"");
    }
    props.append(props.length() > 1 ? "," : "").append("\"sql\":");
    props.append(jsonString("' OR 1=1; --\u0000")).append('}');

    long millis = now.toEpochMilli() - ageMs;
    String timestamp =
        DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'000Z'")
            .withZone(ZoneOffset.UTC)
            .format(Instant.ofEpochMilli(millis));
    String uuid = new UUID(x.seed(), ~x.seed()).toString().toUpperCase();
    byte[] avro =
        encode(
            RawEvent.newBuilder()
                .setUuid(uuid)
                .setProject(project)
                .setEvent(event)
                .setDistinctId(distinctId)
                .setTimestamp(timestamp)
                .setProperties(props.toString())
                .build());

    String storedEvent = stored(event);
    String storedId = stored(distinctId);
    String reason = null;
    if (avro.length > EventValidator.MAX_LINE_BYTES) {
      reason = "oversized";
    } else if (!boundedWithoutNul(storedEvent)) {
      reason = "invalid_field:event";
    } else if (!boundedWithoutNul(storedId)) {
      reason = "invalid_field:distinct_id";
    } else if (x.nesting() > 512 || x.escapedSurrogate()) {
      reason = "invalid_field:properties";
    }
    return new Hostile(
        avro, uuid, project, storedEvent, storedId, millis, reason, browserRendering, urlRendering);
  }

  private static boolean boundedWithoutNul(String s) {
    int n = s.codePointCount(0, s.length());
    return n >= 1 && n <= 200 && s.indexOf('\u0000') < 0;
  }

  /** What a Java string becomes through UTF-8: each unpaired surrogate turns into '?'. */
  static String stored(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        sb.append(c).append(s.charAt(++i));
      } else if (Character.isSurrogate(c)) {
        sb.append('?');
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** A JSON string literal; control characters escaped, everything else raw. */
  static String jsonString(String s) {
    StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        sb.append('\\').append(c);
      } else if (c < 0x20) {
        sb.append(String.format("\\u%04x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append('"').toString();
  }

  static byte[] encode(RawEvent e) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
      new SpecificDatumWriter<>(RawEvent.class).write(e, enc);
      enc.flush();
      return out.toByteArray();
    } catch (IOException ex) {
      throw new java.io.UncheckedIOException(ex);
    }
  }

  /** {@code n} events drawn with {@code seed}, each a fresh uuid; for tests outside jqwik. */
  public static List<Hostile> sample(Instant now, long seed, int n) {
    List<Hostile> out = new ArrayList<>(n);
    // arbitraries need a jqwik context; a session gives one to a plain JUnit test
    net.jqwik.api.sessions.JqwikSession.run(
        () -> {
          net.jqwik.api.RandomGenerator<Hostile> g = events(now).generator(1000);
          Random random = new Random(seed);
          java.util.Set<String> uuids = new java.util.HashSet<>();
          while (out.size() < n) {
            Hostile h = g.next(random).value();
            if (uuids.add(h.uuid().toLowerCase())) {
              out.add(h);
            }
          }
        });
    return out;
  }
}
