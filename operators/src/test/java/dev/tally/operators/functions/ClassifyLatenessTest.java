package dev.tally.operators.functions;

import static dev.tally.operators.functions.HarnessFixtures.event;
import static dev.tally.operators.functions.HarnessFixtures.uuid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.validation.Rfc3339;
import java.time.Duration;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class ClassifyLatenessTest {
  @Test
  void shouldJudgeLatenessOnTheMinuteWindowWithAnInclusiveBoundary() throws Exception {
    var h = new OneInputStreamOperatorTestHarness<>(new ClassifyLateness(Duration.ofMinutes(5)));
    h.open();
    EnrichedRecord first =
        new EnrichedRecord(event(uuid(1), "u", "2026-11-23T10:03:59.999Z", "{}"), "p", "{}");
    long boundary = Rfc3339.parseMillis("2026-11-23T10:09:00Z"); // minute end 10:04 + 5 min

    h.processWatermark(new Watermark(boundary - 1));
    h.processElement(first, 0);
    assertThat(h.extractOutputValues()).hasSize(1);

    h.processWatermark(new Watermark(boundary));
    h.processElement(first, 0);
    assertThat(h.extractOutputValues()).hasSize(1);
    assertThat(h.getSideOutput(Tags.TOO_LATE)).hasSize(1);
    assertThat(h.getSideOutput(Tags.LEDGER))
        .extracting(r -> r.getValue().tooLate)
        .containsExactly(0, 1);
    h.close();
  }

  @Test
  void shouldJudgeReplayedEventsAgainstTheWatermarkInForceAtTheCheckpoint() throws Exception {
    var before =
        new OneInputStreamOperatorTestHarness<>(new ClassifyLateness(Duration.ofMinutes(5)));
    before.open();
    long boundary = Rfc3339.parseMillis("2026-11-23T10:09:00Z");
    before.processWatermark(new Watermark(boundary));
    var snapshot = before.snapshot(1, 1);
    before.close();

    // After a restore Flink starts without a watermark; the event must still be too late.
    var after =
        new OneInputStreamOperatorTestHarness<>(new ClassifyLateness(Duration.ofMinutes(5)));
    after.initializeState(snapshot);
    after.open();
    after.processElement(
        new EnrichedRecord(event(uuid(2), "u", "2026-11-23T10:03:59.999Z", "{}"), "p", "{}"), 0);
    assertThat(after.extractOutputValues()).isEmpty();
    assertThat(after.getSideOutput(Tags.TOO_LATE)).hasSize(1);
    after.close();
  }

  @Test
  void shouldNotJudgeEventsAfterARestoreAgainstTheEndOfInputWatermark() throws Exception {
    var drained =
        new OneInputStreamOperatorTestHarness<>(new ClassifyLateness(Duration.ofMinutes(5)));
    drained.open();
    long real = Rfc3339.parseMillis("2026-11-23T10:09:00Z");
    drained.processWatermark(new Watermark(real));
    drained.processWatermark(Watermark.MAX_WATERMARK); // stop --drain, or a bounded job's end
    assertThat(drained.getOutput()).contains(Watermark.MAX_WATERMARK); // still forwarded
    var snapshot = drained.snapshot(1, 1);
    drained.close();

    var after =
        new OneInputStreamOperatorTestHarness<>(new ClassifyLateness(Duration.ofMinutes(5)));
    after.initializeState(snapshot);
    after.open();
    after.processElement( // on time against the last real watermark
        new EnrichedRecord(event(uuid(3), "u", "2026-11-23T10:04:00.000Z", "{}"), "p", "{}"), 0);
    after.processElement( // too late against it
        new EnrichedRecord(event(uuid(4), "u", "2026-11-23T10:03:59.999Z", "{}"), "p", "{}"), 0);
    assertThat(after.extractOutputValues()).hasSize(1);
    assertThat(after.getSideOutput(Tags.TOO_LATE)).hasSize(1);
    after.close();
  }

  @Test
  void shouldTreatEverythingAsOnTimeBeforeTheFirstWatermark() {
    assertThat(ClassifyLateness.isTooLate(0, Long.MIN_VALUE, 0)).isFalse();
  }
}
