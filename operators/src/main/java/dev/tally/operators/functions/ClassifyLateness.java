package dev.tally.operators.functions;

import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.Times;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decides lateness on the minute window (SEMANTICS.md §6): an event is too late when its minute
 * window's end + allowed lateness ≤ the watermark in force when it arrives. Too-late events go to
 * {@link Tags#TOO_LATE} and are not aggregated (not in hour rows or breakdowns either); on-time
 * events continue to aggregation. Each event's ledger outcome is recorded here.
 */
public class ClassifyLateness extends ProcessFunction<EnrichedRecord, EnrichedRecord> {
  private final long allowedLatenessMillis;
  private transient Counter tooLate;

  public ClassifyLateness(Duration allowedLateness) {
    this.allowedLatenessMillis = allowedLateness.toMillis();
  }

  @Override
  public void open(OpenContext openContext) {
    tooLate = getRuntimeContext().getMetricGroup().counter("tallyTooLate");
  }

  public static boolean isTooLate(long eventMillis, long watermark, long allowedLatenessMillis) {
    long minuteEnd = Times.minuteStart(eventMillis) + Times.MINUTE_MS;
    return watermark != Long.MIN_VALUE && minuteEnd + allowedLatenessMillis <= watermark;
  }

  @Override
  public void processElement(EnrichedRecord record, Context ctx, Collector<EnrichedRecord> out) {
    long watermark = ctx.timerService().currentWatermark();
    if (isTooLate(record.event.timestampMillis, watermark, allowedLatenessMillis)) {
      tooLate.inc();
      ctx.output(Tags.LEDGER, LedgerEntry.tooLate(record.event));
      ctx.output(Tags.TOO_LATE, record);
    } else {
      ctx.output(Tags.LEDGER, LedgerEntry.aggregated(record.event));
      out.collect(record);
    }
  }
}
