package dev.tally.operators.functions;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.ValidEvent;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Splits parsed records: valid events continue; dead letters go to {@link Tags#DEAD_LETTERS}. Every
 * record is counted as consumed in the ledger here, where it enters the pipeline.
 */
public class RouteRecords extends ProcessFunction<ParsedRecord, ValidEvent> {
  private transient Counter deadLetters;

  @Override
  public void open(OpenContext openContext) {
    deadLetters = getRuntimeContext().getMetricGroup().counter("tallyDeadLetters");
  }

  @Override
  public void processElement(ParsedRecord record, Context ctx, Collector<ValidEvent> out) {
    if (record.partition >= 0) {
      ctx.output(Tags.POSITIONS, positionOnly(record));
    }
    if (record.isValid()) {
      ctx.output(Tags.LEDGER, LedgerEntry.consumed(record.valid));
      out.collect(record.valid);
    } else {
      deadLetters.inc();
      ctx.output(Tags.LEDGER, LedgerEntry.deadLettered());
      ctx.output(Tags.DEAD_LETTERS, record.deadLetter);
    }
  }

  /** The position, and for valid records a copy of the event time (per-partition lag). */
  private static ParsedRecord positionOnly(ParsedRecord r) {
    ParsedRecord p = new ParsedRecord().at(r.topic, r.partition, r.offset);
    if (r.isValid()) {
      p.eventTimeMillis = r.valid.timestampMillis;
    }
    return p;
  }
}
