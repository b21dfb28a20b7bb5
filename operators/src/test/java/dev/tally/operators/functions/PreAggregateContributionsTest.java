package dev.tally.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.TallyRow;
import dev.tally.operators.validation.Rfc3339;
import java.util.List;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class PreAggregateContributionsTest {
  private static final long MINUTE = Rfc3339.parseMillis("2026-11-23T10:00:00Z");
  private static final TallyRow HOT =
      TallyRow.eventCount("hot", TallyRow.MINUTE, MINUTE, "$pageview");
  private static final TallyRow COLD = TallyRow.eventCount("cold", TallyRow.MINUTE, MINUTE, "buy");

  private static OneInputStreamOperatorTestHarness<Contribution, Contribution> harness(
      int maxEvents) throws Exception {
    var h = new OneInputStreamOperatorTestHarness<>(new PreAggregateContributions(maxEvents, 200));
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
}
