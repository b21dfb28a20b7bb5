package dev.tally.operators.functions;

import dev.tally.operators.model.TallyRow;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Per Kafka partition (keyed by {@link TallyRow#key()} of its offsets row): the first offset read,
 * one past the last, and how many records were read, from partial rows ({@link Bundles.Offsets}).
 * Committed with the ledger, so {@code ./tally audit} can count the same offset range in Kafka and
 * compare it with {@code consumed}.
 */
public class TrackOffsets extends KeyedProcessFunction<String, TallyRow, TallyRow> {
  private transient ValueState<TallyRow> row;
  private transient Map<String, Long> newestEventTime;

  /** Folds the partial offsets row {@code part} (same partition) into {@code into}. */
  static void mergeInto(TallyRow into, TallyRow part) {
    into.firstOffset = Math.min(into.firstOffset, part.firstOffset);
    into.nextOffset = Math.max(into.nextOffset, part.nextOffset);
    into.maxEventMillis = Math.max(into.maxEventMillis, part.maxEventMillis);
    into.consumed += part.consumed;
  }

  @Override
  public void open(OpenContext openContext) {
    row = getRuntimeContext().getState(new ValueStateDescriptor<>("offsets", TallyRow.class));
    newestEventTime = new ConcurrentHashMap<>();
  }

  /** A gauge per partition: how far its newest event time is behind the wall clock. */
  private void publish(TallyRow r) {
    String name = r.project + "-" + r.windowStart;
    if (newestEventTime.put(name, r.maxEventMillis) == null) {
      getRuntimeContext()
          .getMetricGroup()
          .addGroup("partition", name)
          .gauge(
              "tallyEventTimeLagMs",
              (Gauge<Long>)
                  () -> {
                    long t = newestEventTime.getOrDefault(name, Long.MIN_VALUE);
                    return t == Long.MIN_VALUE ? -1L : System.currentTimeMillis() - t;
                  });
    }
  }

  @Override
  public void processElement(TallyRow part, Context ctx, Collector<TallyRow> out) throws Exception {
    TallyRow current = row.value();
    if (current == null) {
      current = part.copy();
      current.revision = 0;
    } else {
      mergeInto(current, part);
    }
    current.revision++;
    row.update(current);
    publish(current);
    out.collect(current.copy());
  }
}
