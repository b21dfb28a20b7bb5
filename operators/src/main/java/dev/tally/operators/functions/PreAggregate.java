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
  private transient Map<String, Bundle<ACC>> bundles;
  private transient int bufferedRecords;
  private transient Counter bundlesEmitted;
  private transient StreamRecord<OUT> reuse;

  public PreAggregate(
      KeySelector<IN, String> keySelector,
      AggregateFunction<IN, ACC, OUT> aggregate,
      int maxBundleRecords,
      long maxBundleDelayMillis) {
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
