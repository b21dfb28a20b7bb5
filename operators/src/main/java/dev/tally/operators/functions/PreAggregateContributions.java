package dev.tally.operators.functions;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Local pre-aggregation before the keyed count, so that a hot row (one project or one event
 * carrying most of the traffic) costs the keyed operator one RocksDB row update per bundle instead
 * of one per event, and the network one record per bundle.
 *
 * <p>Buffers contributions per row key (in memory, insertion order) and emits one merged {@link
 * Contribution} per row: events summed, person ids as a set. A bundle is emitted, in this order of
 * precedence, <b>before every watermark is forwarded</b> (so the sink never commits a watermark
 * ahead of rows still buffered — freshness stays honest), <b>before every checkpoint barrier</b>
 * (so the buffer is empty in every snapshot and needs no state — exactly-once is unaffected), at
 * end of input, when {@code maxBundleEvents} events are buffered, and at the latest every {@code
 * maxBundleDelayMillis} of processing time. Results are identical to counting event by event;
 * {@code maxBundleEvents = 1} turns pre-aggregation off.
 */
public class PreAggregateContributions extends AbstractStreamOperator<Contribution>
    implements OneInputStreamOperator<Contribution, Contribution> {
  private final int maxBundleEvents;
  private final long maxBundleDelayMillis;
  private transient Map<String, Bundle> bundles;
  private transient int bufferedEvents;
  private transient Counter bundlesEmitted;

  public PreAggregateContributions(int maxBundleEvents, long maxBundleDelayMillis) {
    if (maxBundleEvents < 1 || maxBundleDelayMillis < 1) {
      throw new IllegalArgumentException("bundle size and delay must be positive");
    }
    this.maxBundleEvents = maxBundleEvents;
    this.maxBundleDelayMillis = maxBundleDelayMillis;
  }

  private static final class Bundle {
    final Contribution first;
    long events;
    long timestamp = Long.MIN_VALUE;
    final Set<String> personIds = new LinkedHashSet<>();

    Bundle(Contribution first) {
      this.first = first;
    }
  }

  @Override
  public void open() throws Exception {
    super.open();
    bundles = new LinkedHashMap<>();
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
  public void processElement(StreamRecord<Contribution> element) {
    Contribution c = element.getValue();
    Bundle b = bundles.computeIfAbsent(c.key(), k -> new Bundle(c));
    b.events += c.events;
    for (String personId : c.personIds) {
      b.personIds.add(personId);
    }
    if (element.hasTimestamp()) {
      b.timestamp = Math.max(b.timestamp, element.getTimestamp());
    }
    bufferedEvents += (int) c.events;
    if (bufferedEvents >= maxBundleEvents) {
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
    StreamRecord<Contribution> record = new StreamRecord<>(null);
    for (Bundle b : bundles.values()) {
      record.replace(new Contribution(b.first.row, b.events, b.personIds.toArray(String[]::new)));
      if (b.timestamp == Long.MIN_VALUE) {
        record.eraseTimestamp();
      } else {
        record.setTimestamp(b.timestamp);
      }
      output.collect(record);
      bundlesEmitted.inc();
    }
    bundles.clear();
    bufferedEvents = 0;
  }
}
