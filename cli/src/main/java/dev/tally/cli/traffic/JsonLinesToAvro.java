package dev.tally.cli.traffic;

import dev.tally.avro.RawEvent;
import dev.tally.operators.json.Json;
import dev.tally.operators.json.JsonException;
import dev.tally.operators.validation.EventValidator;
import dev.tally.sinks.kafka.AvroCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code ./tally produce}: a user's JSON Lines (SEMANTICS.md §1) as records of the raw topic. A
 * line the Avro form can carry faithfully — a JSON object whose six fields are absent or strings
 * (properties an object) — becomes a {@link RawEvent}, so the job validates it exactly as replay
 * validates the line. Any other line (not UTF-8, not JSON, not an object, a field that is null or
 * not a string, over the size limit) goes as its own bytes: the job dead-letters it with the
 * original line as payload (as {@code oversized} or {@code malformed}; replay may name a more
 * precise reason), so nothing is dropped and nothing is made valid by the conversion.
 */
public final class JsonLinesToAvro {
  private JsonLinesToAvro() {}

  private static final String[] FIELDS = {"uuid", "project", "event", "distinct_id", "timestamp"};

  /** One raw-topic record: the key ({@code project:distinct_id}, or null) and the value. */
  public record Record(byte[] key, byte[] value, boolean avro) {}

  /** Splits on {@code \n} only; a final {@code \n} does not start a record (SEMANTICS.md §1). */
  public static List<byte[]> lines(byte[] file) {
    List<byte[]> lines = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < file.length; i++) {
      if (file[i] == '\n') {
        lines.add(java.util.Arrays.copyOfRange(file, start, i));
        start = i + 1;
      }
    }
    if (start < file.length) {
      lines.add(java.util.Arrays.copyOfRange(file, start, file.length));
    }
    return lines;
  }

  public static Record convert(byte[] line) {
    if (line.length > EventValidator.MAX_LINE_BYTES) {
      return raw(line);
    }
    String text = EventValidator.strictUtf8(line);
    if (text == null) {
      return raw(line);
    }
    Object parsed;
    try {
      parsed = Json.parse(text);
    } catch (JsonException e) {
      return raw(line);
    }
    if (!(parsed instanceof Map<?, ?> fields)) {
      return raw(line);
    }
    String[] values = new String[FIELDS.length];
    for (int i = 0; i < FIELDS.length; i++) {
      Object v = fields.get(FIELDS[i]);
      if (fields.containsKey(FIELDS[i]) && !(v instanceof String)) {
        return raw(line); // null or another type: Avro's optional string cannot say so
      }
      values[i] = (String) v;
    }
    String properties = null;
    if (fields.containsKey("properties")) {
      if (!(fields.get("properties") instanceof Map)) {
        return raw(line);
      }
      properties = Json.write(fields.get("properties"));
    }
    RawEvent e =
        RawEvent.newBuilder()
            .setUuid(values[0])
            .setProject(values[1])
            .setEvent(values[2])
            .setDistinctId(values[3])
            .setTimestamp(values[4])
            .setProperties(properties)
            .build();
    byte[] key =
        values[1] == null || values[3] == null
            ? null
            : (values[1] + ":" + values[3]).getBytes(StandardCharsets.UTF_8);
    return new Record(key, AvroCodec.encode(e), true);
  }

  private static Record raw(byte[] line) {
    return new Record(null, line, false);
  }
}
