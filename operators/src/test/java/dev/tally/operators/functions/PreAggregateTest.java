package dev.tally.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.validation.Rfc3339;
import java.util.List;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class PreAggregateTest {
  private static final long MINUTE = Rfc3339.parseMillis("2026-11-23T10:00:00Z");
  private static final TallyRow HOT =
      TallyRow.eventCount("hot", TallyRow.MINUTE, MINUTE, "$pageview");
  private static final TallyRow COLD = TallyRow.eventCount("cold", TallyRow.MINUTE, MINUTE, "buy");

  private static OneInputStreamOperatorTestHarness<Contribution, Contribution> harness(
      int maxEvents) throws Exception {
    var h =
        new OneInputStreamOperatorTestHarness<>(
            new PreAggregate<>(Contribution::key, new Bundles.Contributions(), maxEvents, 200));
    h.setProcessingTime(0);
    h.open();
    return h;
  }

  private static List<String> rendered(List<Contribution> out) {
    return out.stream()
        .map(c -> c.row.project + ":" + c.events + ":" + String.join(",", c.personIds))
        .toList();
  }

  @Test
  void shouldMergeARowsContributionsAndEmitThemBeforeTheWatermark() throws Exception {
    var h = harness(1000);
    h.processElement(new Contribution(HOT, "p1"), MINUTE + 1);
    h.processElement(new Contribution(COLD, "p9"), MINUTE + 2);
    h.processElement(new Contribution(HOT, "p2"), MINUTE + 3);
    h.processElement(new Contribution(HOT, "p1"), MINUTE + 4);
    assertThat(h.getOutput()).as("buffered until a watermark").isEmpty();

    h.processWatermark(new Watermark(MINUTE + 5));

    assertThat(h.getOutput())
        .as("rows first, then the watermark that covers them")
        .hasSize(3)
        .last()
        .isEqualTo(new Watermark(MINUTE + 5));
    assertThat(rendered(h.extractOutputValues())).containsExactly("hot:3:p1,p2", "cold:1:p9");
    h.close();
  }

  /**
   * A channel marked idle is left out of the downstream watermark while records may still flow on
   * it; in front of the count (which cleans windows up by watermark) such records arrived after
   * their windows were gone. The rows' pre-aggregation therefore flushes and never passes IDLE on.
   */
  @Test
  void shouldFlushAndKeepTheCountsInputActiveWhenUpstreamGoesIdle() throws Exception {
    var h =
        new OneInputStreamOperatorTestHarness<>(
            new PreAggregate<>(Contribution::key, new Bundles.Contributions(), 1000, 200, true));
    h.setProcessingTime(0);
    h.open();
    h.processElement(new Contribution(HOT, "p1"), MINUTE + 1);
    h.processWatermarkStatus(
        org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
    assertThat(rendered(h.extractOutputValues())).as("flushed").containsExactly("hot:1:p1");
    assertThat(h.getOutput())
        .as("no IDLE status goes downstream")
        .noneMatch(
            o ->
                o instanceof org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus s
                    && s.isIdle());
    h.processWatermarkStatus(
        org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.ACTIVE);
    h.processWatermark(new Watermark(MINUTE + 5));
    assertThat(h.getOutput()).last().isEqualTo(new Watermark(MINUTE + 5));
    h.close();

    var plain = harness(1000); // the ledger's bundles (per source subtask) pass idleness on
    plain.processElement(new Contribution(HOT, "p1"), MINUTE + 1);
    plain.processWatermarkStatus(
        org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
    assertThat(plain.getOutput())
        .hasSize(2)
        .last()
        .isEqualTo(org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
    plain.close();
  }

  @Test
  void shouldHoldNothingInACheckpoint() throws Exception {
    var h = harness(1000);
    h.processElement(new Contribution(HOT, "p1"), MINUTE + 1);
    h.prepareSnapshotPreBarrier(1);
    assertThat(rendered(h.extractOutputValues()))
        .as("emitted before the barrier")
        .containsExactly("hot:1:p1");
    var snapshot = h.snapshot(1, 1);
    assertThat(snapshot.getManagedOperatorState()).isNullOrEmpty();
    assertThat(snapshot.getRawOperatorState()).isNullOrEmpty();
    h.close();
  }

  @Test
  void shouldEmitAFullBundleAndAStaleOne() throws Exception {
    var h = harness(3);
    h.processElement(new Contribution(HOT, "p1"), MINUTE + 1);
    h.processElement(new Contribution(HOT, "p2"), MINUTE + 2);
    h.processElement(new Contribution(HOT, "p3"), MINUTE + 3);
    assertThat(rendered(h.extractOutputValues())).containsExactly("hot:3:p1,p2,p3");

    h.processElement(new Contribution(COLD, "p4"), MINUTE + 4);
    h.setProcessingTime(199);
    assertThat(h.extractOutputValues()).hasSize(1);
    h.setProcessingTime(200);
    assertThat(rendered(h.extractOutputValues())).containsExactly("hot:3:p1,p2,p3", "cold:1:p4");
    h.close();
  }

  @Test
  void shouldEmitTheRestAtEndOfInput() throws Exception {
    var h = harness(1000);
    h.processElement(new Contribution(COLD, "p1"), MINUTE + 1);
    h.endInput();
    h.close();
    assertThat(rendered(h.extractOutputValues())).containsExactly("cold:1:p1");
  }

  @Test
  void shouldSumLedgerEntriesOfAnHourAsTheLedgerWould() {
    var ledger = new Bundles.Ledger();
    ValidEventStub e = new ValidEventStub();
    var acc = ledger.createAccumulator();
    acc = ledger.add(LedgerEntry.consumed(e.event), acc);
    acc = ledger.add(LedgerEntry.consumed(e.event), acc);
    acc = ledger.add(LedgerEntry.duplicate(e.event), acc);
    acc = ledger.add(LedgerEntry.aggregated(e.event), acc);
    LedgerEntry sum = ledger.getResult(acc);
    assertThat(sum.key()).isEqualTo(LedgerEntry.consumed(e.event).key());
    assertThat(List.of(sum.consumed, sum.aggregated, sum.duplicates, sum.tooLate, sum.deadLettered))
        .containsExactly(2, 1, 1, 0, 0);
  }

  @Test
  void shouldMergePositionsOfAPartitionIntoOneOffsetRange() {
    var offsets = new Bundles.Offsets();
    TallyRow acc = offsets.createAccumulator();
    for (long offset : new long[] {7, 5, 6}) {
      ParsedRecord p = new ParsedRecord();
      p.topic = "raw";
      p.partition = 1;
      p.offset = offset;
      p.eventTimeMillis = MINUTE + offset;
      acc = offsets.add(p, acc);
    }
    TallyRow row = offsets.getResult(acc);
    assertThat(List.of(row.firstOffset, row.nextOffset, row.consumed, row.maxEventMillis))
        .containsExactly(5L, 8L, 3L, MINUTE + 7);
  }

  /** A valid event of project acme at 10:00:01. */
  private static final class ValidEventStub {
    final dev.tally.operators.model.ValidEvent event = new dev.tally.operators.model.ValidEvent();

    ValidEventStub() {
      event.project = "acme";
      event.timestampMillis = MINUTE + 1000;
    }
  }
}
