package dev.tally.operators.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.RawEvent;
import dev.tally.operators.model.ParsedRecord;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EventValidatorTest {
  private static final String UUID = "5f0c6a3e-2b1d-4c9e-9a51-0d2f3b7c8e11";

  private static String reason(String line) {
    ParsedRecord r = EventValidator.parseJsonLine(line.getBytes(StandardCharsets.UTF_8), "t");
    return r.isValid() ? "valid" : r.deadLetter.reason;
  }

  private static String event(String timestamp) {
    return "{\"uuid\":\""
        + UUID
        + "\",\"project\":\"acme\",\"event\":\"e\",\"distinct_id\":\"u\",\"timestamp\":\""
        + timestamp
        + "\"}";
  }

  @Test
  void shouldReportTheFirstFailingRuleInContractOrder() {
    // missing event beats an invalid uuid
    assertThat(
            reason(
                "{\"uuid\":\"x\",\"project\":\"acme\",\"distinct_id\":\"u\",\"timestamp\":\"2026-01-01T00:00:00Z\"}"))
        .isEqualTo("missing_field:event");
    assertThat(
            reason(
                "{\"uuid\":null,\"project\":\"acme\",\"event\":\"e\",\"distinct_id\":\"u\",\"timestamp\":\"2026-01-01T00:00:00Z\"}"))
        .isEqualTo("invalid_field:uuid");
    assertThat(reason("[1]")).isEqualTo("malformed");
    assertThat(reason("")).isEqualTo("malformed");
    assertThat(reason("{\"a\": NaN}")).isEqualTo("malformed");
    assertThat(reason("{\"a\": \"\\ud800\"}")).isEqualTo("malformed");
  }

  @ParameterizedTest
  @CsvSource({
    "2026-11-23T10:00:01.123Z, valid",
    "2026-11-23t10:00:01z, valid",
    "2026-11-23T10:00:01.123456789+02:00, valid",
    "2026-11-23T10:00Z, invalid_field:timestamp",
    "2026-11-23T10:00:60Z, invalid_field:timestamp",
    "2026-11-23 10:00:01Z, invalid_field:timestamp",
    "2026-02-29T10:00:01Z, invalid_field:timestamp",
    "2028-02-29T10:00:01Z, valid",
    "2026-11-23T10:00:01+24:00, invalid_field:timestamp",
    "1999-12-31T23:59:59.999Z, invalid_field:timestamp",
    "2000-01-01T01:00:00+01:00, valid",
    "2099-12-31T23:59:59.999Z, valid",
    "2100-01-01T00:00:00Z, invalid_field:timestamp",
    "2026-11-23T10:00:01, invalid_field:timestamp",
  })
  void shouldValidateTimestampsAsRfc3339WithTheContractRange(String ts, String expected) {
    assertThat(reason(event(ts))).isEqualTo(expected);
  }

  @Test
  void shouldTruncateFractionsToMillisecondsNeverRound() {
    assertThat(Rfc3339.parseMillis("2026-11-23T10:00:01.9999Z") % 1000).isEqualTo(999);
    assertThat(Rfc3339.parseMillis("2026-11-23T10:00:01.5+01:00"))
        .isEqualTo(Rfc3339.parseMillis("2026-11-23T09:00:01.500Z"));
  }

  @Test
  void shouldCountCodePointsNotUtf16Units() {
    String emoji200 = "\uD83D\uDE00".repeat(200); // 200 code points, 400 UTF-16 units
    String line =
        "{\"uuid\":\""
            + UUID
            + "\",\"project\":\"acme\",\"event\":\""
            + emoji200
            + "\",\"distinct_id\":\"u\",\"timestamp\":\"2026-01-01T00:00:00Z\"}";
    assertThat(reason(line)).isEqualTo("valid");
    assertThat(reason(line.replace(emoji200, emoji200 + "x"))).isEqualTo("invalid_field:event");
  }

  @Test
  void shouldKeepTheLastValueOfARepeatedKeyAndNumbersAsWritten() {
    ParsedRecord r =
        EventValidator.parseJsonLine(
            ("{\"uuid\":\""
                    + UUID
                    + "\",\"project\":\"x\",\"project\":\"acme\",\"event\":\"e\",\"distinct_id\":\"u\","
                    + "\"timestamp\":\"2026-01-01T00:00:00Z\",\"properties\":{\"price\":1.0,\"big\":123456789012345678901234567890}}")
                .getBytes(StandardCharsets.UTF_8),
            "t");
    assertThat(r.valid.project).isEqualTo("acme");
    assertThat(r.valid.propertiesJson)
        .isEqualTo("{\"price\":1.0,\"big\":123456789012345678901234567890}");
  }

  @Test
  void shouldTreatSpecialKeysOnlyInTheirEvents() {
    String base =
        "{\"uuid\":\""
            + UUID
            + "\",\"project\":\"acme\",\"event\":\"%s\",\"distinct_id\":\"u\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"properties\":%s}";
    assertThat(reason(String.format(base, "$identify", "{\"$anon_distinct_id\":5}")))
        .isEqualTo("invalid_field:properties");
    assertThat(reason(String.format(base, "$pageview", "{\"$anon_distinct_id\":5}")))
        .isEqualTo("valid");
    assertThat(reason(String.format(base, "$create_alias", "{\"alias\":\"\"}")))
        .isEqualTo("invalid_field:properties");
    assertThat(reason(String.format(base, "e", "{\"$unset\":[\"a\",1]}")))
        .isEqualTo("invalid_field:properties");
    assertThat(reason(String.format(base, "e", "{\"$set\":null}")))
        .isEqualTo("invalid_field:properties");
  }

  @Test
  void shouldDeadLetterBytesThatAreNotUtf8AsMalformedWithBase64Payload() {
    byte[] bytes = {'{', (byte) 0xC3, '}'};
    ParsedRecord r = EventValidator.parseJsonLine(bytes, "t");
    assertThat(r.deadLetter.reason).isEqualTo("malformed");
    assertThat(r.deadLetter.payloadText()).isEqualTo("e8N9");
  }

  @Test
  void shouldDeadLetterOversizedLinesBeforeParsingThem() {
    byte[] big = new byte[EventValidator.MAX_LINE_BYTES + 1];
    java.util.Arrays.fill(big, (byte) 'x');
    assertThat(EventValidator.parseJsonLine(big, "t").deadLetter.reason).isEqualTo("oversized");
    assertThat(
            EventValidator.parseJsonLine(
                    java.util.Arrays.copyOf(big, EventValidator.MAX_LINE_BYTES), "t")
                .deadLetter
                .reason)
        .isEqualTo("malformed");
  }

  @Test
  void shouldValidateAvroRecordsWithTheSameRules() throws Exception {
    RawEvent raw =
        RawEvent.newBuilder()
            .setUuid(UUID)
            .setProject("acme")
            .setDistinctId("u")
            .setTimestamp("2026-01-01T00:00:00Z")
            .setProperties("{\"$set\":{\"plan\":\"pro\"}}")
            .build();
    assertThat(EventValidator.parseAvro(encode(raw), "t").deadLetter.reason)
        .isEqualTo("missing_field:event");
    raw.setEvent("signup");
    assertThat(EventValidator.parseAvro(encode(raw), "t").isValid()).isTrue();
    raw.setProperties("not json");
    assertThat(EventValidator.parseAvro(encode(raw), "t").deadLetter.reason)
        .isEqualTo("invalid_field:properties");
    assertThat(
            EventValidator.parseAvro("{\"json\": 1}".getBytes(StandardCharsets.UTF_8), "t")
                .deadLetter
                .reason)
        .isEqualTo("malformed");
  }

  private static byte[] encode(RawEvent e) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<>(RawEvent.class).write(e, enc);
    enc.flush();
    return out.toByteArray();
  }

  @Test
  void shouldRejectNulInEventDistinctIdAndLinkTargetsButKeepItInPropertyValues() {
    String base =
        "{\"uuid\":\""
            + UUID
            + "\",\"project\":\"acme\",\"event\":\"%s\",\"distinct_id\":\"%s\",\"timestamp\":\"2026-01-01T00:00:00Z\",\"properties\":%s}";
    String nul = "a\\u0000b"; // the JSON escape of U+0000
    assertThat(reason(String.format(base, nul, "u", "{}"))).isEqualTo("invalid_field:event");
    assertThat(reason(String.format(base, "e", nul, "{}"))).isEqualTo("invalid_field:distinct_id");
    assertThat(
            reason(
                String.format(base, "$identify", "u", "{\"$anon_distinct_id\":\"" + nul + "\"}")))
        .isEqualTo("invalid_field:properties");
    assertThat(reason(String.format(base, "$create_alias", "u", "{\"alias\":\"" + nul + "\"}")))
        .isEqualTo("invalid_field:properties");
    // elsewhere U+0000 is data: in a property value, a key, and an alias of another event
    assertThat(
            reason(
                String.format(
                    base, "e", "u", "{\"" + nul + "\":\"" + nul + "\",\"alias\":\"" + nul + "\"}")))
        .isEqualTo("valid");
  }
}
