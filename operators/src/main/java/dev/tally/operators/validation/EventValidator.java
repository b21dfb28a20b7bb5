package dev.tally.operators.validation;

import dev.tally.avro.RawEvent;
import dev.tally.operators.json.Json;
import dev.tally.operators.json.JsonException;
import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.ValidEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * Validates raw events exactly as SEMANTICS.md §1–2 say, for both input forms (a JSON line and an
 * Avro {@link RawEvent}). The first failing rule wins: oversized, malformed, then every missing
 * field, then every invalid field, each in field order. Stateless and thread-safe.
 */
public final class EventValidator {
  public static final int MAX_LINE_BYTES = 65_536;

  static final String[] REQUIRED = {"uuid", "project", "event", "distinct_id", "timestamp"};

  /** 8-4-4-4-12 hex digits (either case); a scanner, not a regex: it runs for every event. */
  static boolean isUuid(String s) {
    if (s.length() != 36) {
      return false;
    }
    for (int i = 0; i < 36; i++) {
      char c = s.charAt(i);
      boolean ok =
          (i == 8 || i == 13 || i == 18 || i == 23)
              ? c == '-'
              : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** {@code [A-Za-z0-9][A-Za-z0-9_-]{0,63}}. */
  public static boolean isProject(String s) {
    int n = s.length();
    if (n < 1 || n > 64) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || (c != '_' && c != '-'))) {
        return false;
      }
    }
    return true;
  }

  /** Marks a properties value that arrived as text (Avro) and is not a JSON object. */
  private static final Object UNPARSEABLE = new Object();

  private EventValidator() {}

  /** Validates one JSON line (the bytes between two {@code \n}, without the {@code \n}). */
  public static ParsedRecord parseJsonLine(byte[] line, String source) {
    if (line.length > MAX_LINE_BYTES) {
      return dead("oversized", line, source);
    }
    String text = strictUtf8(line);
    if (text == null) {
      return dead("malformed", line, source);
    }
    Object parsed;
    try {
      parsed = Json.parse(text);
    } catch (JsonException e) {
      return dead("malformed", line, source);
    }
    if (!(parsed instanceof Map)) {
      return dead("malformed", line, source);
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> fields = (Map<String, Object>) parsed;
    return validate(fields, line, source);
  }

  /** The text of {@code bytes} if they are valid UTF-8 (SEMANTICS.md §1), else null. */
  public static String strictUtf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  private static final ThreadLocal<SpecificDatumReader<RawEvent>> AVRO_READER =
      ThreadLocal.withInitial(() -> new SpecificDatumReader<>(RawEvent.class));

  /** Validates one Avro-encoded {@link RawEvent} (a Kafka record value). */
  public static ParsedRecord parseAvro(byte[] value, String source) {
    if (value == null) {
      return dead("malformed", new byte[0], source);
    }
    if (value.length > MAX_LINE_BYTES) {
      return dead("oversized", value, source);
    }
    RawEvent raw;
    try {
      BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(value, null);
      raw = AVRO_READER.get().read(null, decoder);
      if (!decoder.isEnd()) {
        return dead("malformed", value, source); // trailing bytes: another schema
      }
    } catch (IOException | RuntimeException e) {
      return dead("malformed", value, source);
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    putIfNotNull(fields, "uuid", raw.getUuid());
    putIfNotNull(fields, "project", raw.getProject());
    putIfNotNull(fields, "event", raw.getEvent());
    putIfNotNull(fields, "distinct_id", raw.getDistinctId());
    putIfNotNull(fields, "timestamp", raw.getTimestamp());
    if (raw.getProperties() != null) {
      Object props;
      try {
        props = Json.parse(raw.getProperties());
      } catch (JsonException e) {
        props = UNPARSEABLE;
      }
      fields.put("properties", props);
    }
    return validate(fields, value, source);
  }

  private static void putIfNotNull(Map<String, Object> m, String k, String v) {
    if (v != null) {
      m.put(k, v);
    }
  }

  /** Applies the field rules to a decoded object; {@code original} goes into a dead letter. */
  public static ParsedRecord validate(Map<String, Object> f, byte[] original, String source) {
    for (String name : REQUIRED) {
      if (!f.containsKey(name)) {
        return dead("missing_field:" + name, original, source);
      }
    }
    if (!(f.get("uuid") instanceof String uuid) || !isUuid(uuid)) {
      return dead("invalid_field:uuid", original, source);
    }
    if (!(f.get("project") instanceof String project) || !isProject(project)) {
      return dead("invalid_field:project", original, source);
    }
    if (!isBoundedString(f.get("event"))) {
      return dead("invalid_field:event", original, source);
    }
    if (!isBoundedString(f.get("distinct_id"))) {
      return dead("invalid_field:distinct_id", original, source);
    }
    Long millis = f.get("timestamp") instanceof String ts ? Rfc3339.parseMillis(ts) : null;
    if (millis == null) {
      return dead("invalid_field:timestamp", original, source);
    }
    String event = (String) f.get("event");
    Object props = f.get("properties");
    if (f.containsKey("properties") && !validProperties(props, event)) {
      return dead("invalid_field:properties", original, source);
    }

    ValidEvent v = new ValidEvent();
    v.uuid = uuid;
    v.project = project;
    v.event = event;
    v.distinctId = (String) f.get("distinct_id");
    v.timestamp = (String) f.get("timestamp");
    v.timestampMillis = millis;
    v.propertiesPresent = f.containsKey("properties");
    v.propertiesJson = v.propertiesPresent ? Json.write(props) : "{}";
    Map<String, Object> unknown = null;
    for (Map.Entry<String, Object> e : f.entrySet()) {
      if (!isKnownField(e.getKey())) {
        if (unknown == null) {
          unknown = new LinkedHashMap<>();
        }
        unknown.put(e.getKey(), e.getValue());
      }
    }
    v.unknownFieldsJson = unknown == null ? null : Json.write(unknown);
    return ParsedRecord.valid(v);
  }

  private static boolean isKnownField(String name) {
    return switch (name) {
      case "uuid", "project", "event", "distinct_id", "timestamp", "properties" -> true;
      default -> false;
    };
  }

  /**
   * 1–200 code points without U+0000 (SEMANTICS.md §1): {@code event}, {@code distinct_id} and link
   * targets become PostgreSQL text and keys, and PostgreSQL text cannot hold U+0000.
   */
  private static boolean isBoundedString(Object value) {
    if (!(value instanceof String s) || s.indexOf('\u0000') >= 0) {
      return false;
    }
    int n = s.codePointCount(0, s.length());
    return n >= 1 && n <= 200;
  }

  private static boolean validProperties(Object props, String event) {
    if (!(props instanceof Map<?, ?> p)) {
      return false;
    }
    if (p.containsKey("$set") && !(p.get("$set") instanceof Map)) {
      return false;
    }
    if (p.containsKey("$set_once") && !(p.get("$set_once") instanceof Map)) {
      return false;
    }
    if (p.containsKey("$unset")) {
      if (!(p.get("$unset") instanceof List<?> list)) {
        return false;
      }
      for (Object o : list) {
        if (!(o instanceof String)) {
          return false;
        }
      }
    }
    if ("$identify".equals(event)
        && p.containsKey("$anon_distinct_id")
        && !isBoundedString(p.get("$anon_distinct_id"))) {
      return false;
    }
    if ("$create_alias".equals(event)
        && p.containsKey("alias")
        && !isBoundedString(p.get("alias"))) {
      return false;
    }
    return true;
  }

  private static ParsedRecord dead(String reason, byte[] original, String source) {
    return ParsedRecord.deadLetter(new DeadLetterRecord(reason, original, source));
  }
}
