package dev.tally.operators.functions;

import static dev.tally.operators.functions.HarnessFixtures.event;
import static dev.tally.operators.functions.HarnessFixtures.uuid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.Sequenced;
import dev.tally.operators.model.ValidEvent;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The order stage of docs/scale-out.md §3a: what it releases, when, and what it never keeps. */
class RestoreSplitOrderTest {

  private static KeyedOneInputStreamOperatorTestHarness<String, Sequenced, ValidEvent> harness()
      throws Exception {
    var h =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new RestoreSplitOrder(), (Sequenced s) -> s.split, Types.STRING);
    h.open();
    return h;
  }

  /** Event {@code n} of split {@code split}, read at offset {@code n}. */
  private static Sequenced read(String split, int n) {
    return Sequenced.event(
        event(uuid(n), "u" + n, "2026-11-23T10:00:0" + (n % 10) + "Z", "{}"), split, n);
  }

  private static Sequenced delivered(String split, long through, int from, int of) {
    return Sequenced.fromDedup(split, through, from, of);
  }

  /** The output as "e<n>" for events (by uuid) and "w<ts>" for watermarks, in order. */
  private static List<String> output(KeyedOneInputStreamOperatorTestHarness<?, ?, ?> h) {
    List<String> seen = new ArrayList<>();
    for (Object o : h.getOutput()) {
      if (o instanceof StreamRecord<?> r && r.getValue() instanceof ValidEvent e) {
        seen.add("e" + Integer.parseInt(e.uuid.substring(24)));
      } else if (o instanceof Watermark w) {
        seen.add("w" + w.getTimestamp());
      } else if (o instanceof WatermarkStatus s) {
        seen.add(s.isIdle() ? "IDLE" : "ACTIVE");
      }
    }
    return seen;
  }

  @Test
  void shouldReleaseASplitInReadOrderOnlyWhatEveryDedupSubtaskHasDeliveredPast() throws Exception {
    try (var h = harness()) {
      // offsets 1..4 of one split reached this stage through two dedup subtasks, mixed up
      h.processElement(read("raw-0", 3), 3);
      h.processElement(read("raw-0", 1), 1);
      h.processElement(delivered("raw-0", 3, 0, 2), 0); // subtask 0 delivered through 3 …
      assertThat(output(h)).as("subtask 1 may still deliver 2").isEmpty();

      h.processElement(read("raw-0", 2), 2);
      h.processElement(read("raw-0", 4), 4);
      h.processElement(delivered("raw-0", 2, 1, 2), 0); // … subtask 1 through 2
      assertThat(output(h)).containsExactly("e1", "e2");

      h.processElement(delivered("raw-0", 4, 0, 2), 0);
      assertThat(output(h)).as("subtask 1 has not delivered past 3").containsExactly("e1", "e2");
      h.processElement(delivered("raw-0", 4, 1, 2), 0);
      assertThat(output(h)).containsExactly("e1", "e2", "e3", "e4");
    }
  }

  @Test
  void shouldReleaseAcrossTheGapsThatDuplicatesLeave() throws Exception {
    try (var h = harness()) {
      h.processElement(read("raw-0", 5), 5); // 2, 3 and 4 were duplicates, dropped by dedup
      h.processElement(read("raw-0", 1), 1);
      h.processElement(delivered("raw-0", 5, 0, 1), 0);
      assertThat(output(h)).containsExactly("e1", "e5");
    }
  }

  @Test
  void shouldKeepEachSplitApartSoOneSlowSplitHoldsOnlyItself() throws Exception {
    try (var h = harness()) {
      h.processElement(read("raw-0", 1), 1);
      h.processElement(read("raw-1", 2), 2);
      h.processElement(delivered("raw-1", 2, 0, 1), 0);
      assertThat(output(h)).containsExactly("e2");
    }
  }

  @Test
  void shouldReleaseEverythingBeforeABarrierSnapshotNothingAndWaitForAllSubtasksAfterARestore()
      throws Exception {
    org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
    try (var h = harness()) {
      h.processElement(delivered("raw-0", 0, 0, 2), 0);
      h.processElement(delivered("raw-0", 0, 1, 2), 0);
      h.processElement(read("raw-0", 3), 3);
      h.processElement(read("raw-0", 2), 2);
      h.processElement(read("raw-1", 7), 7);
      h.prepareSnapshotPreBarrier(1);
      // aligned checkpoint: nothing read before the barrier is still on its way
      assertThat(output(h)).containsExactlyInAnyOrder("e2", "e3", "e7");
      assertThat(output(h).indexOf("e2")).isLessThan(output(h).indexOf("e3"));
      snapshot = h.snapshot(1, 1);
    }
    assertThat(snapshot.getManagedKeyedState()).as("nothing in the snapshot").isEmpty();
    assertThat(snapshot.getManagedOperatorState()).isEmpty();

    var after =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new RestoreSplitOrder(), (Sequenced s) -> s.split, Types.STRING);
    after.initializeState(snapshot);
    after.open();
    after.processElement(read("raw-0", 5), 5);
    after.processElement(read("raw-0", 4), 4);
    after.processElement(delivered("raw-0", 5, 1, 2), 0);
    assertThat(output(after)).as("progress restarts empty: subtask 0 not heard").isEmpty();
    after.processElement(delivered("raw-0", 5, 0, 2), 0);
    assertThat(output(after)).containsExactly("e4", "e5");
    after.close();
  }

  @Test
  void shouldPassAWatermarkRightAfterTheLastEventThatArrivedBeforeIt() throws Exception {
    try (var h = harness()) {
      h.processElement(read("raw-0", 1), 1);
      h.processWatermark(new Watermark(100));
      h.processElement(read("raw-0", 2), 2);
      h.processWatermark(new Watermark(200));
      h.processElement(read("raw-0", 3), 3);
      assertThat(output(h)).as("held: e1 arrived before w100").isEmpty();

      h.processElement(delivered("raw-0", 3, 0, 1), 0);
      assertThat(output(h))
          .as("one upstream channel: the input's sequence exactly")
          .containsExactly("e1", "w100", "e2", "w200", "e3");

      h.processWatermark(new Watermark(300)); // nothing held: passed on at once
      assertThat(output(h)).endsWith("w300");
    }
  }

  @Test
  void shouldNeverPassOnIdleAndReleaseEverythingAtTheEndOfInput() throws Exception {
    try (var h = harness()) {
      h.processElement(read("raw-0", 2), 2);
      h.processElement(read("raw-0", 1), 1);
      h.processWatermarkStatus(WatermarkStatus.IDLE);
      assertThat(output(h)).isEmpty();
      h.processWatermark(Watermark.MAX_WATERMARK); // a bounded run's end, or stop --drain
      assertThat(output(h)).containsExactly("e1", "e2", "w" + Long.MAX_VALUE);
    }
  }
}
