package dev.tally.operators.functions;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * A keyed two-input operator of the person protocol (docs/scale-out.md §14): input 1 carries events
 * and their watermarks, input 2 the loop topic, whose watermarks and idleness are ignored (loop
 * messages are not events; review finding 5). The output watermark is held below the oldest event
 * any key of this subtask holds (parked, or bounced and not yet acknowledged), so an event released
 * later is never behind a watermark it did not meet. IDLE is never passed on: a held event may
 * still be released.
 *
 * <p>Each key's oldest hold is also kept in a union list in every checkpoint and taken back, by key
 * group, on restore — so the hold survives a restore and a rescale without scanning all keys.
 */
abstract class HoldingLoopOperator<IN1, IN2, OUT, N> extends AbstractStreamOperator<OUT>
    implements TwoInputStreamOperator<IN1, IN2, OUT> {
  private final String stateName;
  private transient org.apache.flink.api.common.state.ValueState<byte[]> node;

  /**
   * Nodes with something waiting, by key, kept in memory and written to the keyed state at each
   * snapshot: a hot person frozen by a merge parks thousands of events, and rewriting them all with
   * every new one would be quadratic (docs/performance.md finding 31).
   */
  private transient Map<String, N> busy;

  private transient Map<String, Long> holdByKey;
  private transient TreeMap<Long, Integer> holds;
  private transient ListState<Tuple2<String, Long>> checkpointedHolds;
  private long inputWatermark = Long.MIN_VALUE;
  private long emitted = Long.MIN_VALUE;

  protected HoldingLoopOperator(String stateName) {
    this.stateName = stateName;
  }

  /** A node's bytes ({@code MergeCodec}). */
  protected abstract byte[] encode(N n);

  @Override
  public void open() throws Exception {
    super.open();
    node =
        getRuntimeContext()
            .getState(
                new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                    stateName,
                    org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo
                        .BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    busy = new HashMap<>();
  }

  /** The current key's node kept in memory, or null: then {@link #stored()} has it. */
  protected final N cached(String key) {
    return busy.get(key);
  }

  /** The current key's node as stored, or null. */
  protected final byte[] stored() throws Exception {
    return node.value();
  }

  /**
   * After a node handled a message: a waiting node stays in memory; any other is written (or
   * cleared when {@code empty}) if it came from memory or changed. Then its hold is updated.
   *
   * @param before its stored bytes, or null when it came from memory or had none
   */
  protected final void keep(
      String key, N n, boolean waiting, boolean empty, byte[] before, long oldest)
      throws Exception {
    if (waiting) {
      busy.put(key, n);
    } else {
      boolean cached = busy.remove(key) != null;
      if (empty) {
        if (cached || before != null) {
          node.clear();
        }
      } else {
        byte[] after = encode(n);
        if (cached || !java.util.Arrays.equals(before, after)) {
          node.update(after); // most events leave their node as it was: no write
        }
      }
    }
    updateHold(key, oldest);
    advanceWatermark();
  }

  @Override
  public void initializeState(StateInitializationContext context) throws Exception {
    super.initializeState(context);
    holdByKey = new HashMap<>();
    holds = new TreeMap<>();
    checkpointedHolds =
        context
            .getOperatorStateStore()
            .getUnionListState(
                new ListStateDescriptor<>(
                    "holds",
                    org.apache.flink.api.common.typeinfo.Types.TUPLE(
                        org.apache.flink.api.common.typeinfo.Types.STRING,
                        org.apache.flink.api.common.typeinfo.Types.LONG)));
    if (context.isRestored()) {
      var task = getRuntimeContext().getTaskInfo();
      int max = task.getMaxNumberOfParallelSubtasks();
      var range =
          KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(
              max, task.getNumberOfParallelSubtasks(), task.getIndexOfThisSubtask());
      for (Tuple2<String, Long> h : checkpointedHolds.get()) {
        if (range.contains(KeyGroupRangeAssignment.assignToKeyGroup(h.f0, max))) {
          updateHold(h.f0, h.f1);
        }
      }
    }
  }

  /** Writes the nodes kept in memory; the keyed state is snapshotted right after this method. */
  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    for (Map.Entry<String, N> e : busy.entrySet()) {
      setCurrentKey(e.getKey());
      node.update(encode(e.getValue()));
    }
    super.snapshotState(context);
    List<Tuple2<String, Long>> all = new java.util.ArrayList<>();
    holdByKey.forEach((k, v) -> all.add(Tuple2.of(k, v)));
    checkpointedHolds.update(all);
  }

  /** The oldest timestamp {@code key} holds now ({@code Long.MAX_VALUE}: none). */
  private void updateHold(String key, long oldest) {
    Long before = oldest == Long.MAX_VALUE ? holdByKey.remove(key) : holdByKey.put(key, oldest);
    if (before != null && before == oldest) {
      return;
    }
    if (before != null) {
      holds.computeIfPresent(before, (t, n) -> n == 1 ? null : n - 1);
    }
    if (oldest != Long.MAX_VALUE) {
      holds.merge(oldest, 1, Integer::sum);
    }
  }

  /** Events held on this subtask (a gauge). */
  protected final int keysHolding() {
    return holdByKey.size();
  }

  /** Emits the input watermark as far as the holds allow; call after every change of a hold. */
  private void advanceWatermark() throws Exception {
    long allowed =
        holds.isEmpty() ? inputWatermark : Math.min(inputWatermark, holds.firstKey() - 1);
    if (allowed > emitted) {
      emitted = allowed;
      super.processWatermark(new Watermark(allowed));
    }
  }

  @Override
  public void processWatermark1(Watermark mark) throws Exception {
    inputWatermark = Math.max(inputWatermark, mark.getTimestamp());
    advanceWatermark();
  }

  @Override
  public void processWatermark2(Watermark mark) {
    // the loop's watermarks are not event time
  }

  @Override
  protected void processWatermarkStatus(WatermarkStatus status, int inputIndex) throws Exception {
    // the loop's idleness says nothing about events; IDLE of the events is not passed on
    if (inputIndex == 0 && status.isActive()) {
      super.processWatermarkStatus(status);
    }
  }
}
