package dev.tally.operators.functions;

import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.Times;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Decides lateness on the minute window (SEMANTICS.md §6): an event is too late when its minute
 * window's end + allowed lateness ≤ the watermark in force when it arrives. Too-late events go to
 * {@link Tags#TOO_LATE} and are not aggregated (not in hour rows or breakdowns either); on-time
 * events continue to aggregation. Each event's ledger outcome is recorded here.
 *
 * <p>An operator rather than a ProcessFunction because it must checkpoint the watermark in force:
 * Flink does not checkpoint watermarks, and after a restore the replayed events would otherwise be
 * judged against no watermark at all — accepting events into windows that the committed freshness
 * stamp already declared final. The restored floor is the minimum over the subtasks' checkpointed
 * watermarks (union state), which is ≥ every watermark the sinks committed with that checkpoint.
 */
public class ClassifyLateness extends AbstractStreamOperator<EnrichedRecord>
    implements OneInputStreamOperator<EnrichedRecord, EnrichedRecord> {
  private final long allowedLatenessMillis;
  private transient Counter tooLate;
  private transient ListState<Long> checkpointedWatermark;
  private long watermarkFloor = Long.MIN_VALUE;
  private long currentWatermark = Long.MIN_VALUE;

  public ClassifyLateness(Duration allowedLateness) {
    this.allowedLatenessMillis = allowedLateness.toMillis();
  }

  public static boolean isTooLate(long eventMillis, long watermark, long allowedLatenessMillis) {
    long minuteEnd = Times.minuteStart(eventMillis) + Times.MINUTE_MS;
    return watermark != Long.MIN_VALUE && minuteEnd + allowedLatenessMillis <= watermark;
  }

  @Override
  public void open() throws Exception {
    super.open();
    tooLate = getMetricGroup().counter("tallyTooLate");
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    // End of input (a bounded job, or stop --drain) is not event time: kept in force, it would
    // be checkpointed and, restored, make every later event too late. It is still forwarded.
    if (mark.getTimestamp() != Long.MAX_VALUE) {
      currentWatermark = Math.max(currentWatermark, mark.getTimestamp());
    }
    super.processWatermark(mark);
  }

  @Override
  public void processElement(StreamRecord<EnrichedRecord> element) {
    EnrichedRecord record = element.getValue();
    long watermark = Math.max(currentWatermark, watermarkFloor);
    if (isTooLate(record.event.timestampMillis, watermark, allowedLatenessMillis)) {
      tooLate.inc();
      output.collect(
          Tags.LEDGER,
          new StreamRecord<>(LedgerEntry.tooLate(record.event), element.getTimestamp()));
      output.collect(Tags.TOO_LATE, element);
    } else {
      output.collect(
          Tags.LEDGER,
          new StreamRecord<>(LedgerEntry.aggregated(record.event), element.getTimestamp()));
      output.collect(element);
    }
  }

  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    super.snapshotState(context);
    checkpointedWatermark.update(List.of(Math.max(currentWatermark, watermarkFloor)));
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    checkpointedWatermark =
        context
            .getOperatorStateStore()
            .getUnionListState(new ListStateDescriptor<>("watermark-in-force", Long.class));
    if (context.isRestored()) {
      long min = Long.MAX_VALUE;
      boolean any = false;
      for (Long w : checkpointedWatermark.get()) {
        if (w == Long.MAX_VALUE) {
          continue; // end of input checkpointed by an older release: not event time
        }
        min = Math.min(min, w);
        any = true;
      }
      watermarkFloor = any ? min : Long.MIN_VALUE;
    }
  }
}
