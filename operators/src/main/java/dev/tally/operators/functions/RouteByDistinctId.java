package dev.tally.operators.functions;

import dev.tally.avro.PersonState;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import dev.tally.operators.persons.merge.LinkNode;
import dev.tally.operators.persons.merge.LoopRecord;
import dev.tally.operators.persons.merge.MergeCodec;
import dev.tally.operators.persons.merge.MergeEffects;
import dev.tally.operators.persons.merge.MergeMessage;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * LINKS (docs/scale-out.md §14), keyed by {@code project:distinct_id}: sends each event, in order,
 * to its distinct_id's root person; input 2 brings the bounces of tombs back through the loop. Only
 * re-routed ids have state, so an ordinary event costs one state read (usually a miss).
 */
public class RouteByDistinctId extends HoldingLoopOperator<ValidEvent, LoopRecord, LoopRecord> {
  static final String STATE = "links-node";
  private transient ValueState<byte[]> node;

  /** Ids being re-routed, by key: written to {@link #node} before every barrier (see PERSONS). */
  private transient java.util.Map<String, LinkNode> busy;

  private transient StreamRecord<LoopRecord> reuse;

  @Override
  public void open() throws Exception {
    super.open();
    node =
        getRuntimeContext()
            .getState(
                new ValueStateDescriptor<>(
                    STATE, PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
    reuse = new StreamRecord<>(null);
    busy = new java.util.HashMap<>();
    getMetricGroup().gauge("tallyLinksHolding", (Gauge<Integer>) this::keysHolding);
  }

  @Override
  public void processElement1(StreamRecord<ValidEvent> element) throws Exception {
    String key = (String) getCurrentKey();
    LinkNode n = busy.get(key);
    byte[] before = null;
    if (n == null) {
      before = node.value();
      if (before == null) {
        // the common case: an id never re-routed goes to its home, with no state written
        emit(element.getValue(), key);
        return;
      }
      n = MergeCodec.decodeLinkNode(before, LoopRecord.projectOf(key), LoopRecord.idOf(key));
    }
    n.onEvent(element.getValue(), effects(key));
    save(key, before, n);
  }

  @Override
  public void processElement2(StreamRecord<LoopRecord> element) throws Exception {
    String key = (String) getCurrentKey();
    LinkNode n = busy.get(key);
    byte[] before = null;
    if (n == null) {
      before = node.value();
      n =
          before == null
              ? new LinkNode(LoopRecord.projectOf(key), LoopRecord.idOf(key))
              : MergeCodec.decodeLinkNode(before, LoopRecord.projectOf(key), LoopRecord.idOf(key));
    }
    n.onBounce(
        (MergeMessage.Bounce) MergeCodec.decodeMessage(element.getValue().message), effects(key));
    save(key, before, n);
  }

  /** {@code before}: the stored bytes, or null when the node came from {@link #busy}. */
  private void save(String key, byte[] before, LinkNode n) throws Exception {
    if (n.holdsEvents()) {
      busy.put(key, n);
    } else {
      boolean cached = busy.remove(key) != null;
      byte[] after = MergeCodec.encode(n);
      if (cached || !java.util.Arrays.equals(before, after)) {
        node.update(after);
      }
    }
    updateHold(key, n.oldestHold());
    advanceWatermark();
  }

  /** Before the keyed state is snapshotted (it is, right after this method). */
  @Override
  public void snapshotState(org.apache.flink.runtime.state.StateSnapshotContext context)
      throws Exception {
    for (var e : busy.entrySet()) {
      setCurrentKey(e.getKey());
      node.update(MergeCodec.encode(e.getValue()));
    }
    super.snapshotState(context);
  }

  private void emit(ValidEvent e, String key) {
    String project = LoopRecord.projectOf(key);
    String home = dev.tally.operators.persons.PersonIds.personId(project, e.distinctId);
    reuse.replace(
        new LoopRecord(
            LoopRecord.TO_PERSONS,
            LoopRecord.key(project, home),
            MergeCodec.encode(new MergeMessage.Routed(e, null))),
        e.timestampMillis);
    output.collect(reuse);
  }

  private MergeEffects effects(String key) {
    String project = LoopRecord.projectOf(key);
    return new MergeEffects() {
      @Override
      public void toPerson(String personId, MergeMessage m) {
        LoopRecord r =
            new LoopRecord(
                LoopRecord.TO_PERSONS, LoopRecord.key(project, personId), MergeCodec.encode(m));
        if (m instanceof MergeMessage.Routed routed) {
          reuse.replace(r, routed.event().timestampMillis);
        } else {
          reuse.replace(r);
          reuse.eraseTimestamp();
        }
        output.collect(reuse);
      }

      @Override
      public void loopToPerson(String personId, MergeMessage m) {
        throw new IllegalStateException("LINKS sends nothing through the loop");
      }

      @Override
      public void loopToLinks(String distinctId, MergeMessage m) {
        throw new IllegalStateException("LINKS sends nothing through the loop");
      }

      @Override
      public void enriched(ValidEvent event, PersonState person, PersonModel.Outcome outcome) {
        throw new IllegalStateException("LINKS applies no event");
      }

      @Override
      public void failed(ValidEvent event, RuntimeException cause) {
        throw new IllegalStateException("LINKS applies no event");
      }
    };
  }
}
