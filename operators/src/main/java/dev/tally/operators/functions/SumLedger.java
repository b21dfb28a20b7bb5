package dev.tally.operators.functions;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.TallyRow;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Sums ledger entries per (project, hour) into absolute ledger rows (SEMANTICS.md §8), keyed by
 * {@link LedgerEntry#key()}, emitting the row with a higher revision on every change.
 */
public class SumLedger extends KeyedProcessFunction<String, LedgerEntry, TallyRow> {
  private transient ValueState<TallyRow> row;

  @Override
  public void open(OpenContext openContext) {
    row = getRuntimeContext().getState(new ValueStateDescriptor<>("ledger-row", TallyRow.class));
  }

  @Override
  public void processElement(LedgerEntry e, Context ctx, Collector<TallyRow> out) throws Exception {
    TallyRow current = row.value();
    if (current == null) {
      current = TallyRow.ledger(e.project, e.hourStart);
    }
    current.consumed += e.consumed;
    current.aggregated += e.aggregated;
    current.duplicates += e.duplicates;
    current.tooLate += e.tooLate;
    current.deadLettered += e.deadLettered;
    current.revision++;
    row.update(current);
    out.collect(current.copy());
  }
}
