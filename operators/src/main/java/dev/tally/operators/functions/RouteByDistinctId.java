package dev.tally.operators.functions;

import dev.tally.avro.PersonState;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import dev.tally.operators.persons.merge.LinkNode;
import dev.tally.operators.persons.merge.LoopRecord;
import dev.tally.operators.persons.merge.MergeCodec;
import dev.tally.operators.persons.merge.MergeEffects;
import dev.tally.operators.persons.merge.MergeMessage;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * LINKS (docs/scale-out.md §14), keyed by {@code project:distinct_id}: sends each event, in order,
 * to its distinct_id's root person; input 2 brings the bounces of tombs back through the loop. Only
 * re-routed ids have state, so an ordinary event costs one state read (usually a miss).
 */
public class RouteByDistinctId
    extends HoldingLoopOperator<ValidEvent, LoopRecord, LoopRecord, LinkNode> {
  static final String STATE = "links-node";

  private transient StreamRecord<LoopRecord> reuse;

  public RouteByDistinctId() {
    super(STATE);
  }

  @Override
  public void open() throws Exception {
    super.open();
    reuse = new StreamRecord<>(null);
    getMetricGroup().gauge("tallyLinksHolding", (Gauge<Integer>) this::keysHolding);
  }

  @Override
  public void processElement1(StreamRecord<ValidEvent> element) throws Exception {
    String key = (String) getCurrentKey();
    LinkNode n = cached(key);
    byte[] before = n == null ? stored() : null;
    if (n == null && before == null) {
      // the common case: an id never re-routed goes to its home, and no state is written
      node(key, null).onEvent(element.getValue(), effects(key));
      return;
    }
    n = n != null ? n : node(key, before);
    n.onEvent(element.getValue(), effects(key));
    save(key, before, n);
  }

  @Override
  public void processElement2(StreamRecord<LoopRecord> element) throws Exception {
    String key = (String) getCurrentKey();
    LinkNode n = cached(key);
    byte[] before = n == null ? stored() : null;
    n = n != null ? n : node(key, before);
    n.onBounce(
        (MergeMessage.Bounce) MergeCodec.decodeMessage(element.getValue().message), effects(key));
    save(key, before, n);
  }

  /** The node of {@code key} from its stored bytes, or a new one. */
  private static LinkNode node(String key, byte[] stored) {
    String project = LoopRecord.projectOf(key);
    String id = LoopRecord.idOf(key);
    return stored == null
        ? new LinkNode(project, id)
        : MergeCodec.decodeLinkNode(stored, project, id);
  }

  private void save(String key, byte[] before, LinkNode n) throws Exception {
    keep(key, n, n.holdsEvents(), false, before, n.oldestHold());
  }

  @Override
  protected byte[] encode(LinkNode n) {
    return MergeCodec.encode(n);
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
