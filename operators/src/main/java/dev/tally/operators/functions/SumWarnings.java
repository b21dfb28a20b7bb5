package dev.tally.operators.functions;

import dev.tally.operators.model.TallyRow;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Sums warning occurrences ({@link TallyRow#warning}) per (project, hour, kind), keyed by {@link
 * TallyRow#key()}, emitting the absolute count with a higher revision on every change, so refused
 * merges are committed with the rows and visible to {@code tally audit} (SEMANTICS.md §4).
 */
public class SumWarnings extends KeyedProcessFunction<String, TallyRow, TallyRow> {
  private transient ValueState<TallyRow> row;

  @Override
  public void open(OpenContext openContext) {
    row = getRuntimeContext().getState(new ValueStateDescriptor<>("warning-row", TallyRow.class));
  }

  @Override
  public void processElement(TallyRow occurrence, Context ctx, Collector<TallyRow> out)
      throws Exception {
    TallyRow current = row.value();
    if (current == null) {
      current = occurrence.copy();
      current.events = 0;
    }
    current.events += occurrence.events;
    current.revision++;
    row.update(current);
    out.collect(current.copy());
  }
}
