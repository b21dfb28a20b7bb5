package dev.tally.operators.functions;

import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.AggregateFunction;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Local pre-aggregation in front of a keyed operator, so that a hot key (one project, one row, one
 * Kafka partition) costs the keyed operator one RocksDB update per bundle instead of one per
 * record, and the network one record per bundle.
 *
 * <p>Buffers records per key (in memory, insertion order) through an {@link AggregateFunction} and
 * emits one result per key. A bundle is emitted <b>before every watermark is forwarded</b> (the
 * sinks never commit a watermark ahead of records still buffered — freshness stays honest),
 * <b>before every checkpoint barrier</b> (the buffer is empty in every snapshot, so the operator
 * has no state and exactly-once is unaffected), at end of input, when {@code maxBundleRecords}
 * records are buffered, and at the latest every {@code maxBundleDelayMillis} of processing time.
 * The keyed operator downstream must accept merged inputs; results are then identical to
 * record-by-record processing, and {@code maxBundleRecords = 1} turns pre-aggregation off.
 */
public class PreAggregate<IN, ACC, OUT> extends AbstractStreamOperator<OUT>
    implements OneInputStreamOperator<IN, OUT> {
  private final KeySelector<IN, String> keySelector;
  private final AggregateFunction<IN, ACC, OUT> aggregate;
  private final int maxBundleRecords;
  private final long maxBundleDelayMillis;
  private final boolean keepsInputActive;
  private transient Map<String, Bundle<ACC>> bundles;
  private transient int bufferedRecords;
  private transient Counter bundlesEmitted;
  private transient StreamRecord<OUT> reuse;

  public PreAggregate(
      KeySelector<IN, String> keySelector,
      AggregateFunction<IN, ACC, OUT> aggregate,
      int maxBundleRecords,
      long maxBundleDelayMillis) {
    this(keySelector, aggregate, maxBundleRecords, maxBundleDelayMillis, false);
  }

  /**
   * @param keepsInputActive never tell downstream that this input is idle (see {@link
   *     #processWatermarkStatus}); for a pre-aggregation behind a full shuffle, in front of a keyed
   *     operator that cleans state up by watermark
   */
  public PreAggregate(
      KeySelector<IN, String> keySelector,
      AggregateFunction<IN, ACC, OUT> aggregate,
      int maxBundleRecords,
      long maxBundleDelayMillis,
      boolean keepsInputActive) {
    this.keepsInputActive = keepsInputActive;
    if (maxBundleRecords < 1 || maxBundleDelayMillis < 1) {
      throw new IllegalArgumentException("bundle size and delay must be positive");
    }
    this.keySelector = keySelector;
    this.aggregate = aggregate;
    this.maxBundleRecords = maxBundleRecords;
    this.maxBundleDelayMillis = maxBundleDelayMillis;
  }

  private static final class Bundle<ACC> {
    ACC accumulator;
    long timestamp = Long.MIN_VALUE;
  }

  @Override
  public void open() throws Exception {
    super.open();
    bundles = new LinkedHashMap<>();
    reuse = new StreamRecord<>(null);
    bundlesEmitted = getMetricGroup().counter("tallyPreAggregatedBundles");
    scheduleFlush();
  }

  private void scheduleFlush() {
    long now = getProcessingTimeService().getCurrentProcessingTime();
    getProcessingTimeService()
        .registerTimer(
            now + maxBundleDelayMillis,
            time -> {
              flush();
              scheduleFlush();
            });
  }

  @Override
  public void processElement(StreamRecord<IN> element) throws Exception {
    IN value = element.getValue();
    Bundle<ACC> b = bundles.get(keySelector.getKey(value));
    if (b == null) {
      b = new Bundle<>();
      b.accumulator = aggregate.createAccumulator();
      bundles.put(keySelector.getKey(value), b);
    }
    b.accumulator = aggregate.add(value, b.accumulator);
    if (element.hasTimestamp()) {
      b.timestamp = Math.max(b.timestamp, element.getTimestamp());
    }
    if (++bufferedRecords >= maxBundleRecords) {
      flush();
    }
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    flush();
    super.processWatermark(mark);
  }

  /**
   * Flushes before an idle/active status goes downstream, as before a watermark. And with {@code
   * keepsInputActive}, IDLE is not passed on at all. Why: a channel marked idle is left out of the
   * downstream watermark, but records still flow on it — an upstream that resumes sends records
   * before its next watermark says it is active (Flink's idleness marks a source active only at its
   * next periodic watermark), and after a restore every reader starts idle while it replays a
   * backlog. Records that were on time here then reach a keyed operator whose watermark the other
   * channels have already moved past them; it cleans up their windows first and the rows lose
   * events the ledger counted as aggregated (seen: FaultToleranceIT after a PostgreSQL crash, whole
   * minutes short). Behind a full shuffle, IDLE reaches this operator only when every source is
   * idle, so downstream watermarks would not advance either way: hiding it costs no freshness.
   */
  @Override
  public void processWatermarkStatus(WatermarkStatus status) throws Exception {
    flush();
    if (keepsInputActive && status.isIdle()) {
      return;
    }
    super.processWatermarkStatus(status);
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    flush();
    super.prepareSnapshotPreBarrier(checkpointId);
  }

  @Override
  public void finish() throws Exception {
    flush();
    super.finish();
  }

  private void flush() {
    if (bundles.isEmpty()) {
      return;
    }
    for (Bundle<ACC> b : bundles.values()) {
      reuse.replace(aggregate.getResult(b.accumulator));
      if (b.timestamp == Long.MIN_VALUE) {
        reuse.eraseTimestamp();
      } else {
        reuse.setTimestamp(b.timestamp);
      }
      output.collect(reuse);
      bundlesEmitted.inc();
    }
    bundles.clear();
    bufferedRecords = 0;
  }
}
