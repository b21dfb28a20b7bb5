package dev.tally.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.TallyRow;
import dev.tally.operators.validation.Rfc3339;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class CountEventsAndPersonsTest {
  private static final long MINUTE = Rfc3339.parseMillis("2026-11-23T10:00:00Z");

  /** The count with 5 minutes of allowed lateness, keyed by row like the job. */
  private static KeyedOneInputStreamOperatorTestHarness<String, Contribution, TallyRow> harness()
      throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(
        new KeyedProcessOperator<>(new CountEventsAndPersons(Duration.ofMinutes(5))),
        Contribution::key,
        Types.STRING);
  }

  @Test
  void shouldEmitAbsoluteRevisionsAndClearStateAndTimersAfterAllowedLateness() throws Exception {
    var h = harness();
    h.open();
    TallyRow row = TallyRow.eventCount("acme", TallyRow.MINUTE, MINUTE, "$pageview");
    h.processElement(new Contribution(row, "p1"), MINUTE + 1);
    h.processElement(new Contribution(row, "p2"), MINUTE + 2);
    h.processElement(new Contribution(row, "p1"), MINUTE + 3);
    h.processElement(new Contribution(row, 5, new String[] {"p2", "p3"}), MINUTE + 4);

    List<TallyRow> out = h.extractOutputValues();
    assertThat(out).extracting(r -> r.events).containsExactly(1L, 2L, 3L, 8L);
    assertThat(out).extracting(r -> r.persons).containsExactly(1L, 2L, 2L, 3L);
    assertThat(out).extracting(r -> r.revision).containsExactly(1L, 2L, 3L, 4L);
    assertThat(h.numEventTimeTimers()).isEqualTo(1);

    long cleanup = MINUTE + 60_000 + 300_000; // window end + allowed lateness
    h.processWatermark(new Watermark(cleanup - 1));
    assertThat(h.numKeyedStateEntries())
        .as("state kept while the window may still change")
        .isPositive();
    h.processWatermark(new Watermark(cleanup));
    assertThat(h.numKeyedStateEntries()).isZero();
    assertThat(h.numEventTimeTimers()).isZero();
    h.close();
  }

  @Test
  void shouldCountEachPersonOncePerRowAcrossBatchesAndARestore() throws Exception {
    TallyRow hour = TallyRow.eventCount("acme", TallyRow.HOUR, MINUTE, "$pageview");
    TallyRow other = TallyRow.eventCount("acme", TallyRow.HOUR, MINUTE, "signup");
    // the same persons in two rows, in overlapping batches
    var h = harness();
    h.open();
    String[][] batches = {{"p1", "p2"}, {"p3", "p1"}, {"p2", "p4"}, {"p1"}};
    for (String[] persons : batches) {
      h.processElement(new Contribution(hour, persons.length, persons), MINUTE);
      h.processElement(new Contribution(other, persons.length, persons), MINUTE);
    }
    var snapshot = h.snapshot(1, 1);
    List<TallyRow> before = h.extractOutputValues();
    assertThat(before.subList(before.size() - 2, before.size()))
        .as("both rows counted p1..p4 once each")
        .extracting(r -> r.event + "=" + r.persons)
        .containsExactly("$pageview=4", "signup=4");
    h.close();

    // restored: the keyed state still knows p1..p4
    var restored = harness();
    restored.initializeState(snapshot);
    restored.open();
    restored.processElement(new Contribution(hour, 2, new String[] {"p4", "p5"}), MINUTE);
    restored.processElement(new Contribution(hour, 1, new String[] {"p5"}), MINUTE);
    List<TallyRow> out = restored.extractOutputValues();
    assertThat(out).extracting(r -> r.persons).containsExactly(5L, 5L);
    assertThat(out).extracting(r -> r.events).containsExactly(9L, 10L);
    restored.close();
  }
}
