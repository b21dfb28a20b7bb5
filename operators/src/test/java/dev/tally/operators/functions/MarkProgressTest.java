package dev.tally.operators.functions;

import static dev.tally.operators.functions.HarnessFixtures.event;
import static dev.tally.operators.functions.HarnessFixtures.uuid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.Sequenced;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class MarkProgressTest {

  @Test
  void shouldFindAMarkerKeyForEverySubtaskOfEveryParallelism() {
    for (int maxParallelism : new int[] {128, 256, 32768}) {
      for (int p = 1; p <= 64; p++) {
        String[] keys = MarkProgress.keysForEachSubtask(maxParallelism, p);
        Set<String> distinct = new HashSet<>(List.of(keys));
        assertThat(distinct).hasSize(p);
        for (int i = 0; i < p; i++) {
          assertThat(
                  KeyGroupRangeAssignment.assignKeyToParallelOperator(keys[i], maxParallelism, p))
              .isEqualTo(i);
        }
      }
    }
  }

  @Test
  void shouldMarkEachSplitThatAdvancedOncePerSubtaskBehindItsEventsAndAgainAtTheEnd()
      throws Exception {
    var h = new OneInputStreamOperatorTestHarness<>(new MarkProgress(50), 128, 2, 0);
    h.setProcessingTime(0);
    h.open();
    h.processElement(Sequenced.event(event(uuid(1), "u", "2026-11-23T10:00:00Z", "{}"), "a", 7), 1);
    h.processElement(Sequenced.event(event(uuid(2), "u", "2026-11-23T10:00:00Z", "{}"), "b", 3), 1);
    h.setProcessingTime(50);
    List<Sequenced> out = h.extractOutputValues();
    assertThat(out.subList(0, 2)).noneMatch(Sequenced::isMarker);
    assertThat(out.subList(2, out.size()))
        .extracting(s -> s.split + "@" + s.offset + "→" + s.target)
        .containsExactlyInAnyOrder("a@7→0", "a@7→1", "b@3→0", "b@3→1");

    h.setProcessingTime(100); // nothing advanced: no new markers
    assertThat(h.extractOutputValues()).hasSize(6);

    h.processElement(Sequenced.event(event(uuid(3), "u", "2026-11-23T10:00:00Z", "{}"), "a", 9), 1);
    h.endInput();
    h.close();
    List<Sequenced> all = h.extractOutputValues();
    assertThat(all.subList(6, all.size()))
        .extracting(s -> s.isMarker() ? s.split + "@" + s.offset : "event")
        .containsExactly("event", "a@9", "a@9");
  }
}
