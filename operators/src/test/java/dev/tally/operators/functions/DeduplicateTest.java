package dev.tally.operators.functions;

import static dev.tally.operators.functions.HarnessFixtures.event;
import static dev.tally.operators.functions.HarnessFixtures.uuid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.operators.model.Sequenced;
import dev.tally.operators.model.ValidEvent;
import java.time.Duration;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class DeduplicateTest {

  private static KeyedOneInputStreamOperatorTestHarness<String, Sequenced, Sequenced> harness(
      Duration retention) throws Exception {
    var h =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(new Deduplicate(retention)),
            Sequenced::dedupKey,
            Types.STRING);
    h.open();
    return h;
  }

  private static long offsets;

  private static Sequenced at(ValidEvent e) {
    return Sequenced.event(e, "raw-0", offsets++);
  }

  @Test
  void shouldPassOnAMarkerBehindTheEventsBeforeItAsComingFromThisSubtask() throws Exception {
    try (var h = harness(Duration.ofHours(24))) {
      h.processElement(at(event(uuid(7), "u", "2026-11-23T10:00:00Z", "{}")), 1);
      h.processElement(Sequenced.toDedup("raw-0", 41, 0, "k"), 2);
      var out = h.extractOutputValues();
      assertThat(out).hasSize(2);
      assertThat(out.get(0).isMarker()).isFalse();
      Sequenced marker = out.get(1);
      assertThat(marker.isMarker()).isTrue();
      assertThat(marker.split).isEqualTo("raw-0");
      assertThat(marker.offset).isEqualTo(41);
      assertThat(marker.from).isZero();
      assertThat(marker.of).isEqualTo(1);
    }
  }

  @Test
  void shouldFailLoudlyOnAMarkerAddressedToAnotherSubtask() throws Exception {
    try (var h = harness(Duration.ofHours(24))) {
      assertThatThrownBy(() -> h.processElement(Sequenced.toDedup("raw-0", 1, 1, "k"), 1))
          .hasMessageContaining("max parallelism");
    }
  }

  @Test
  void shouldPassTheFirstCopyAndCountLaterCopiesCaseInsensitively() throws Exception {
    try (var h = harness(Duration.ofHours(24))) {
      h.processElement(at(event(uuid(1), "u", "2026-11-23T10:00:00Z", "{}")), 1);
      h.processElement(
          at(event(uuid(1).toUpperCase(), "u", "2026-11-23T11:30:00Z", "{\"$set\":{\"a\":1}}")), 2);

      assertThat(h.extractOutputValues()).hasSize(1);
      var ledger = h.getSideOutput(Tags.LEDGER);
      assertThat(ledger).hasSize(1);
      var entry = ledger.peek().getValue();
      assertThat(entry.duplicates).isEqualTo(1);
      assertThat(entry.hourStart)
          .as("a duplicate counts under its own hour")
          .isEqualTo(dev.tally.operators.validation.Rfc3339.parseMillis("2026-11-23T11:00:00Z"));
    }
  }

  @Test
  void shouldForgetAKeyAfterTheRetentionAndKeepItForeverWithoutOne() throws Exception {
    try (var h = harness(Duration.ofMinutes(10))) {
      h.setStateTtlProcessingTime(0);
      h.processElement(at(event(uuid(2), "u", "2026-11-23T10:00:00Z", "{}")), 1);
      h.setStateTtlProcessingTime(Duration.ofMinutes(11).toMillis());
      h.processElement(at(event(uuid(2), "u", "2026-11-23T10:00:00Z", "{}")), 2);
      assertThat(h.extractOutputValues()).as("expired entry: seen as new").hasSize(2);
    }
    try (var h = harness(null)) {
      h.processElement(at(event(uuid(3), "u", "2026-11-23T10:00:00Z", "{}")), 1);
      h.setStateTtlProcessingTime(Duration.ofDays(400).toMillis());
      h.processElement(at(event(uuid(3), "u", "2026-11-23T10:00:00Z", "{}")), 2);
      assertThat(h.extractOutputValues()).hasSize(1);
      assertThat(h.numEventTimeTimers() + h.numProcessingTimeTimers())
          .as("no timers needed")
          .isZero();
    }
  }

  @Test
  void shouldKeyByProjectAndUuidSoTheSameUuidInAnotherProjectIsNew() throws Exception {
    try (var h = harness(null)) {
      ValidEvent acme = event(uuid(9), "u", "2026-11-23T10:00:00Z", "{}");
      ValidEvent other = event(uuid(9), "u", "2026-11-23T10:00:00Z", "{}");
      other.project = "other";
      h.processElement(at(acme), 1);
      h.processElement(at(other), 2);
      h.processElement(at(acme), 3);
      assertThat(h.extractOutputValues())
          .extracting(s -> s.event.project)
          .containsExactly("acme", "other");
    }
  }
}
