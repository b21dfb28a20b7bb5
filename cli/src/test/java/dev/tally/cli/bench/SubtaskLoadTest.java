package dev.tally.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.savepoints.FlinkRest;
import org.junit.jupiter.api.Test;

class SubtaskLoadTest {

  @Test
  void shouldDescribeRecordsAndBusyTimePerSubtask() {
    assertThat(
            SubtaskLoad.describe(
                java.util.List.of(
                    new FlinkRest.SubtaskLoad(247_758, 13_966),
                    new FlinkRest.SubtaskLoad(49_296, 4_839))))
        .isEqualTo("247,758 / 49,296 records, busy 14.0 / 4.8 s");
  }

  @Test
  void shouldGiveTheBusiestSubtasksShareOfTheRecords() {
    assertThat(
            Bench.busiestShare(
                java.util.List.of(
                    new FlinkRest.SubtaskLoad(300, 1), new FlinkRest.SubtaskLoad(100, 1))))
        .isEqualTo(0.75);
    assertThat(Bench.busiestShare(java.util.List.of())).isNaN();
    assertThat(Bench.busiestShare(null)).isNaN();
  }
}
