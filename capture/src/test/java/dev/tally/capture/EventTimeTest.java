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
}
