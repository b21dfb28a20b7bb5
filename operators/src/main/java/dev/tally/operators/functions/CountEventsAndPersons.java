package dev.tally.operators.functions;

import dev.tally.operators.model.TallyRow;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Keeps one aggregate row (keyed by {@link TallyRow#key()}): the number of events and of distinct
 * person_ids, and emits the row with absolute values and a higher revision on every change, so
 * late-but-allowed events revise it (SEMANTICS.md §6). When the watermark passes window end +
 * allowed lateness no on-time event can arrive any more: an event-time timer then clears the row's
 * state. RocksDB work is one row read/write per (pre-aggregated) contribution plus one lookup per
 * distinct person in it, so a hot row costs no more per event than a cold one.
 */
public class CountEventsAndPersons extends KeyedProcessFunction<String, Contribution, TallyRow> {
  private final long allowedLatenessMillis;
  private transient ValueState<TallyRow> row;
  private transient MapState<String, Boolean> persons;
  private transient org.apache.flink.metrics.Counter afterCleanup;
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(CountEventsAndPersons.class);

  public CountEventsAndPersons(Duration allowedLateness) {
    this.allowedLatenessMillis = allowedLateness.toMillis();
  }

  @Override
  public void open(OpenContext openContext) {
    row = getRuntimeContext().getState(new ValueStateDescriptor<>("row", TallyRow.class));
    persons =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("persons", Types.STRING, Types.BOOLEAN));
    afterCleanup = getRuntimeContext().getMetricGroup().counter("tallyContributionsAfterCleanup");
  }

  @Override
  public void processElement(Contribution c, Context ctx, Collector<TallyRow> out)
      throws Exception {
    TallyRow current = row.value();
    if (current == null) {
      if (cleanupTime(c.row) <= ctx.timerService().currentWatermark()) {
        // Its window was cleaned up, yet lateness upstream let the event through: the row starts
        // again at revision 1 and the committed one keeps its older count. Must never happen
        // (PreAggregate keeps this input active); loud if it does.
        afterCleanup.inc();
        LOG.warn(
            "an on-time contribution reached the count after its window was cleaned up ({} {} {},"
                + " watermark {}): the row undercounts",
            c.row.project,
            c.row.grain,
            c.row.windowStart,
            ctx.timerService().currentWatermark());
      }
      current = c.row.copy();
      ctx.timerService().registerEventTimeTimer(cleanupTime(current));
    }
    current.events += c.events;
    for (String personId : c.personIds) {
      if (!persons.contains(personId)) {
        persons.put(personId, Boolean.TRUE);
        current.persons++;
      }
    }
    current.revision++;
    row.update(current);
    out.collect(current.copy());
  }

  private long cleanupTime(TallyRow r) {
    return r.windowEnd() + allowedLatenessMillis;
  }

  @Override
  public void onTimer(long timestamp, OnTimerContext ctx, Collector<TallyRow> out) {
    row.clear();
    persons.clear();
  }
}
