package dev.tally.operators.functions;

import dev.tally.operators.model.ParsedRecord;
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
 * Per Kafka partition (keyed by topic and partition): the first offset read, one past the last, and
 * how many records were read. Committed with the ledger, so {@code ./tally audit} can count the
 * same offset range in Kafka and compare it with {@code consumed}.
 */
public class TrackOffsets extends KeyedProcessFunction<String, ParsedRecord, TallyRow> {
  private transient ValueState<TallyRow> row;
  private transient Map<String, Long> newestEventTime;

  public static String key(ParsedRecord r) {
    return r.topic + '\u0000' + r.partition;
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
  public void processElement(ParsedRecord r, Context ctx, Collector<TallyRow> out)
      throws Exception {
    TallyRow current = row.value();
    if (current == null) {
      current = TallyRow.sourceOffsets(r.topic, r.partition);
      current.firstOffset = r.offset;
      current.nextOffset = r.offset;
    }
    current.firstOffset = Math.min(current.firstOffset, r.offset);
    current.nextOffset = Math.max(current.nextOffset, r.offset + 1);
    current.maxEventMillis = Math.max(current.maxEventMillis, r.eventTimeMillis);
    current.consumed++;
    current.revision++;
    row.update(current);
    publish(current);
    out.collect(current.copy());
  }
}
