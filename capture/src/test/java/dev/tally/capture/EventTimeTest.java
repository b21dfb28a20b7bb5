package dev.tally.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The clock-skew rule of docs/capture.md, one case per step. */
class EventTimeTest {
  private static final Instant NOW = Instant.parse("2026-12-02T12:00:00.000Z");

  @Test
  void shouldMoveTheTimestampByHowFarTheDeviceClockIsOff() {
    // the device's clock is 10 minutes ahead: it said sent at 12:10 when it was 12:00
    assertThat(
            EventTime.resolve(
                "2026-12-02T12:09:00.000Z", "2026-12-02T12:10:00.000Z", null, false, NOW))
        .isEqualTo("2026-12-02T11:59:00.000Z");
  }

  @Test
  void shouldTakeTheOffsetBeforeAnythingElseEvenZero() {
    assertThat(EventTime.resolve("2020-01-01T00:00:00Z", "2026-12-02T12:10:00Z", 1500L, false, NOW))
        .isEqualTo("2026-12-02T11:59:58.500Z");
    assertThat(EventTime.resolve(null, null, 0L, false, NOW)).isEqualTo("2026-12-02T12:00:00.000Z");
  }

  @Test
  void shouldKeepTheTimestampWithoutASendTimeOrWhenTheEventSaysToIgnoreIt() {
    assertThat(EventTime.resolve("2026-11-30T10:00:00.123456+01:00", null, null, false, NOW))
        .isEqualTo("2026-11-30T09:00:00.123Z");
    assertThat(EventTime.resolve("2026-11-30T10:00:00Z", "2026-12-02T12:10:00Z", null, true, NOW))
        .isEqualTo("2026-11-30T10:00:00.000Z");
  }

  @Test
  void shouldUseTheArrivalTimeWithoutAnyTimeAndForAClockFarAhead() {
    assertThat(EventTime.resolve(null, "2026-12-02T12:10:00Z", null, false, NOW))
        .isEqualTo("2026-12-02T12:00:00.000Z");
    assertThat(EventTime.resolve("2026-12-03T11:00:01Z", null, null, false, NOW))
        .as("more than 23 h ahead")
        .isEqualTo("2026-12-02T12:00:00.000Z");
    assertThat(EventTime.resolve("2026-12-03T10:59:59Z", null, null, false, NOW))
        .isEqualTo("2026-12-03T10:59:59.000Z");
  }

  @Test
  void shouldPassAnUnreadableTimestampOnForTheJobToDeadLetter() {
    assertThat(EventTime.resolve("yesterday", "2026-12-02T12:10:00Z", null, false, NOW))
        .isEqualTo("yesterday");
    // java.time reads a fraction separator without digits; the contract does not
    assertThat(EventTime.resolve("2026-12-02T12:00:00.Z", null, null, false, NOW))
        .isEqualTo("2026-12-02T12:00:00.Z");
    assertThat(EventTime.resolve("2026-12-02T12:00:00.+01:00", null, null, false, NOW))
        .isEqualTo("2026-12-02T12:00:00.+01:00");
  }

  @Test
  void shouldReadTheFormsSdksSend() {
    assertThat(EventTime.parse("2026-12-02T12:00:00Z")).isEqualTo(NOW);
    assertThat(EventTime.parse("2026-12-02 12:00:00.000+00:00")).isEqualTo(NOW);
    assertThat(EventTime.parse("2026-12-02T14:00:00+02")).isEqualTo(NOW);
    assertThat(EventTime.parse("2026-12-02T12:00:00")).isEqualTo(NOW);
    assertThat(EventTime.parse("1796212800")).isEqualTo(NOW);
    assertThat(EventTime.parse("1796212800000")).isEqualTo(NOW);
    assertThat(EventTime.parse("not a time")).isNull();
    assertThat(EventTime.parse("2026-12-02T12:00Z")).as("no seconds: invalid by contract").isNull();
  }

  @Test
  void shouldReadAndWriteTheSdkFormByHandExactlyAsJavaTimeDoes() {
    java.util.Random random = new java.util.Random(42);
    java.time.format.DateTimeFormatter out =
        java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(java.time.ZoneOffset.UTC);
    for (int k = 0; k < 20_000; k++) {
      Instant i =
          Instant.ofEpochSecond(random.nextLong(0, 4_102_444_800L), random.nextInt(1_000_000_000));
      String text = java.time.format.DateTimeFormatter.ISO_INSTANT.format(i);
      String expected = out.format(i.truncatedTo(java.time.temporal.ChronoUnit.MILLIS));
      assertThat(EventTime.format(EventTime.parse(text))).as(text).isEqualTo(expected);
      assertThat(EventTime.format(i)).isEqualTo(expected);
    }
    assertThat(EventTime.parse("2026-02-30T12:00:00Z")).isNull();
    assertThat(EventTime.parse("2026-12-02T12:00:60Z")).isNull();
    assertThat(EventTime.parse("2026-12-02t12:00:00.5z")).isEqualTo(NOW.plusMillis(500));
  }
}
