package dev.tally.operators.functions;

import dev.tally.operators.model.Sequenced;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Chained behind route: passes every event on and, every {@code intervalMillis} of processing time
 * and at end of input, tells every dedup subtask how far each split has been sent (one {@link
 * Sequenced#toDedup} marker per split and subtask, docs/scale-out.md §3a). A marker travels on the
 * same channel as the events before it, so it cannot overtake them; a broadcast stream could.
 *
 * <p>Keys for the markers are found with Flink's own {@link KeyGroupRangeAssignment}, for the max
 * parallelism and parallelism of this operator, which the topology gives dedup too; dedup checks
 * that each marker reached the subtask it was addressed to. No state: after a restore the order
 * stage starts from an empty progress and waits for new markers.
 */
public class MarkProgress extends AbstractStreamOperator<Sequenced>
    implements OneInputStreamOperator<Sequenced, Sequenced> {
  private final long intervalMillis;
  private transient Map<String, long[]> splits; // split → {latest offset sent, offset marked}
  private transient String[] keys;

  public MarkProgress(long intervalMillis) {
    this.intervalMillis = intervalMillis;
  }

  @Override
  public void open() throws Exception {
    super.open();
    splits = new HashMap<>();
    var task = getRuntimeContext().getTaskInfo();
    keys =
        keysForEachSubtask(
            task.getMaxNumberOfParallelSubtasks(), task.getNumberOfParallelSubtasks());
    schedule();
  }

  /** One key per downstream subtask index, for a keyed operator of this (max) parallelism. */
  static String[] keysForEachSubtask(int maxParallelism, int parallelism) {
    String[] found = new String[parallelism];
    int missing = parallelism;
    for (int n = 0; missing > 0; n++) {
      String key = "\u0001progress-" + n; // never a dedup key: those start with a project
      int target =
          KeyGroupRangeAssignment.assignKeyToParallelOperator(key, maxParallelism, parallelism);
      if (found[target] == null) {
        found[target] = key;
        missing--;
      }
    }
    return found;
  }

  private void schedule() {
    long now = getProcessingTimeService().getCurrentProcessingTime();
    getProcessingTimeService()
        .registerTimer(
            now + intervalMillis,
            time -> {
              mark();
              schedule();
            });
  }

  @Override
  public void processElement(StreamRecord<Sequenced> element) {
    Sequenced s = element.getValue();
    long[] p = splits.get(s.split);
    if (p == null) {
      splits.put(s.split, new long[] {s.offset, Long.MIN_VALUE});
    } else {
      p[0] = Math.max(p[0], s.offset);
    }
    output.collect(element);
  }

  private void mark() {
    for (Map.Entry<String, long[]> e : splits.entrySet()) {
      long[] p = e.getValue();
      if (p[0] > p[1]) {
        p[1] = p[0];
        for (int target = 0; target < keys.length; target++) {
          output.collect(
              new StreamRecord<>(Sequenced.toDedup(e.getKey(), p[0], target, keys[target])));
        }
      }
    }
  }

  @Override
  public void finish() throws Exception {
    mark();
    super.finish();
  }
}
