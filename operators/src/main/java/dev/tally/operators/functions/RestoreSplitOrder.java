package dev.tally.operators.functions;

import dev.tally.operators.model.Sequenced;
import dev.tally.operators.model.ValidEvent;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Puts each split's events back in the order they were read, after the shuffle by uuid mixed them
 * (docs/scale-out.md §3a). Keyed by split, so every event of a split leaves from one subtask over
 * one channel and the order survives the next shuffle.
 *
 * <p>Per split it holds the events by offset and the offset through which each dedup subtask has
 * delivered ({@link Sequenced#fromDedup} markers, which travel behind that subtask's events of the
 * split); it releases, in offset order, what every dedup subtask has delivered past. Duplicates
 * leave gaps: the markers, not contiguity, say when nothing earlier can come.
 *
 * <p><b>No state.</b> With aligned checkpoints every record read before a barrier is here when
 * {@link #prepareSnapshotPreBarrier} runs, so everything held is released then (nothing earlier of
 * any split can still come) and every snapshot is empty; after a restore the progress starts empty.
 * End of input releases everything too. {@code IngestionJob} refuses unaligned checkpoints.
 *
 * <p><b>Watermarks</b> keep their place: a watermark is passed on only once every event that
 * arrived before it has been released, right after the last of them, so with one upstream channel
 * (replay) the output is the input's sequence exactly and no event is ever judged against a
 * watermark it would not have met without waiting here. IDLE is never passed on: behind the
 * shuffles it arrives only when every source is idle, and records held here would then reach a
 * downstream that had left this channel out of its watermark ({@link PreAggregate}).
 */
public class RestoreSplitOrder extends AbstractStreamOperator<ValidEvent>
    implements OneInputStreamOperator<Sequenced, ValidEvent> {

  /** The events that arrived between two watermarks; its watermark goes out when none is held. */
  private static final class Epoch {
    int held;
    long closingWatermark = Long.MIN_VALUE;
    boolean closed;
  }

  private record Held(ValidEvent event, long offset, long timestamp, Epoch epoch) {}

  private static final class Split {
    final PriorityQueue<Held> held =
        new PriorityQueue<>((a, b) -> Long.compare(a.offset(), b.offset()));
    long[] delivered = new long[0];
  }

  private transient Map<String, Split> splits;
  private transient ArrayDeque<Epoch> epochs; // oldest first; the last one is open
  private transient int heldEvents;
  private transient long lastWatermark;
  private transient StreamRecord<ValidEvent> reuse;

  @Override
  public void open() throws Exception {
    super.open();
    splits = new HashMap<>();
    epochs = new ArrayDeque<>();
    epochs.add(new Epoch());
    lastWatermark = Long.MIN_VALUE;
    reuse = new StreamRecord<>(null);
    getMetricGroup().gauge("tallyOrderHeldEvents", (Gauge<Integer>) () -> heldEvents);
  }

  @Override
  public void processElement(StreamRecord<Sequenced> element) throws Exception {
    Sequenced s = element.getValue();
    Split split = splits.computeIfAbsent(s.split, k -> new Split());
    if (s.isMarker()) {
      if (split.delivered.length
          != s.of) { // first marker, or the parallelism changed: wait for all
        split.delivered = new long[s.of];
        Arrays.fill(split.delivered, Long.MIN_VALUE);
      }
      split.delivered[s.from] = Math.max(split.delivered[s.from], s.offset);
      long through = Long.MAX_VALUE;
      for (long d : split.delivered) {
        through = Math.min(through, d);
      }
      release(split, through);
      return;
    }
    Epoch open = epochs.peekLast();
    open.held++;
    heldEvents++;
    split.held.add(
        new Held(
            s.event,
            s.offset,
            element.hasTimestamp() ? element.getTimestamp() : Long.MIN_VALUE,
            open));
  }

  private void release(Split split, long through) {
    while (!split.held.isEmpty() && split.held.peek().offset() <= through) {
      Held h = split.held.poll();
      if (h.timestamp() == Long.MIN_VALUE) {
        reuse.eraseTimestamp();
        output.collect(reuse.replace(h.event()));
      } else {
        output.collect(reuse.replace(h.event(), h.timestamp()));
      }
      heldEvents--;
      h.epoch().held--;
      emitWatermarksDue();
    }
  }

  private void releaseAll() {
    for (Split split : splits.values()) {
      release(split, Long.MAX_VALUE);
    }
  }

  /** Passes on, oldest first, each watermark whose earlier events have all been released. */
  private void emitWatermarksDue() {
    while (epochs.size() > 1 && epochs.peekFirst().closed && epochs.peekFirst().held == 0) {
      long w = epochs.pollFirst().closingWatermark;
      if (w > lastWatermark) {
        lastWatermark = w;
        output.emitWatermark(new Watermark(w));
      }
    }
  }

  @Override
  public void processWatermark(Watermark mark) throws Exception {
    Epoch open = epochs.peekLast();
    open.closed = true;
    open.closingWatermark = mark.getTimestamp();
    epochs.add(new Epoch());
    if (mark.getTimestamp() == Long.MAX_VALUE) {
      // end of input (a bounded run, --drain): every channel has sent all it will
      releaseAll();
    }
    emitWatermarksDue();
  }

  @Override
  public void processWatermarkStatus(WatermarkStatus status) {
    // never IDLE (see the class comment); ACTIVE is the default downstream already
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    releaseAll();
    super.prepareSnapshotPreBarrier(checkpointId);
  }

  @Override
  public void finish() throws Exception {
    releaseAll();
    super.finish();
  }
}
