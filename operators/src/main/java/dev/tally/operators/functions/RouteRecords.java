package dev.tally.operators.functions;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.Sequenced;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Splits parsed records: valid events continue with the position they were read at (the order stage
 * restores each split's order by it, docs/scale-out.md §3a); dead letters go to {@link
 * Tags#DEAD_LETTERS}. Every record is counted as consumed in the ledger here, where it enters the
 * pipeline. Records without a Kafka position (replay's files) get this subtask as their split and a
 * counter as their offset: the order they were read in.
 */
public class RouteRecords extends ProcessFunction<ParsedRecord, Sequenced> {
  private transient Counter deadLetters;
  private transient String ownSplit;
  private transient long read;

  @Override
  public void open(OpenContext openContext) {
    deadLetters = getRuntimeContext().getMetricGroup().counter("tallyDeadLetters");
    ownSplit = "route-" + getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
  }

  /** The split of a Kafka position, as the order stage keys it. */
  public static String split(String topic, int partition) {
    return topic + '-' + partition;
  }

  @Override
  public void processElement(ParsedRecord record, Context ctx, Collector<Sequenced> out) {
    if (record.partition >= 0) {
      ctx.output(Tags.POSITIONS, positionOnly(record));
    }
    if (record.isValid()) {
      ctx.output(Tags.LEDGER, LedgerEntry.consumed(record.valid));
      out.collect(
          record.partition >= 0
              ? Sequenced.event(record.valid, split(record.topic, record.partition), record.offset)
              : Sequenced.event(record.valid, ownSplit, read++));
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
