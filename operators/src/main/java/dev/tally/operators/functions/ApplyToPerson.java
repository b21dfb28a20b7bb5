package dev.tally.operators.functions;

import dev.tally.avro.PersonState;
import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import dev.tally.operators.persons.merge.LoopRecord;
import dev.tally.operators.persons.merge.MergeCodec;
import dev.tally.operators.persons.merge.MergeEffects;
import dev.tally.operators.persons.merge.MergeMessage;
import dev.tally.operators.persons.merge.PersonNode;
import java.nio.charset.StandardCharsets;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;

/**
 * PERSONS (docs/scale-out.md §14), keyed by {@code project:person_id}: one node of the persons'
 * union-find per key. Input 1: events routed by LINKS (data channel); input 2: the loop topic.
 * Emits enriched events; loop messages go to {@link #LOOP}, to be written to the loop topic
 * exactly-once; warnings, ledger entries and dead letters as {@link EnrichWithPerson} does.
 */
public class ApplyToPerson
    extends HoldingLoopOperator<LoopRecord, LoopRecord, EnrichedRecord, PersonNode> {
  /** Messages for the loop topic. */
  public static final OutputTag<LoopRecord> LOOP = new OutputTag<>("persons-loop") {};

  static final String STATE = "persons-node";
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(ApplyToPerson.class);
  private final int maxProperties;
  private final int maxPropertiesBytes;

  private transient Counter mergeRefused;
  private transient Counter merges;
  private transient Counter propertiesCapped;
  private transient Counter processingErrors;
  private transient Counter bounces;

  /** The epoch of the loop messages emitted now: the last snapshot's checkpoint id plus one. */
  private long epoch;

  public ApplyToPerson(int maxProperties, int maxPropertiesBytes) {
    super(STATE);
    this.maxProperties = maxProperties;
    this.maxPropertiesBytes = maxPropertiesBytes;
  }

  @Override
  public void open() throws Exception {
    super.open();
    mergeRefused = getMetricGroup().counter("tallyPersonMergeRefused");
    merges = getMetricGroup().counter("tallyPersonMerges");
    propertiesCapped = getMetricGroup().counter("tallyPersonPropertiesCapped");
    processingErrors = getMetricGroup().counter("tallyProcessingErrors");
    bounces = getMetricGroup().counter("tallyPersonBounces");
    getMetricGroup().gauge("tallyPersonsHolding", (Gauge<Integer>) this::keysHolding);
  }

  @Override
  public void initializeState(org.apache.flink.runtime.state.StateInitializationContext context)
      throws Exception {
    super.initializeState(context);
    epoch = context.getRestoredCheckpointId().orElse(0L) + 1;
  }

  @Override
  public void snapshotState(org.apache.flink.runtime.state.StateSnapshotContext context)
      throws Exception {
    super.snapshotState(context);
    // what is emitted after this barrier goes into the loop writer's next transaction
    epoch = context.getCheckpointId() + 1;
  }

  /** The epoch stamped on the loop messages emitted now (for tests). */
  long epoch() {
    return epoch;
  }

  @Override
  public void processElement1(StreamRecord<LoopRecord> element) throws Exception {
    handle(element.getValue());
  }

  @Override
  public void processElement2(StreamRecord<LoopRecord> element) throws Exception {
    handle(element.getValue());
  }

  private void handle(LoopRecord r) throws Exception {
    String key = (String) getCurrentKey();
    String project = LoopRecord.projectOf(key);
    PersonNode n = cached(key);
    byte[] before = null;
    if (n == null) {
      before = stored();
      n =
          before == null
              ? new PersonNode(project, LoopRecord.idOf(key), maxProperties, maxPropertiesBytes)
              : MergeCodec.decodePersonNode(
                  before, project, LoopRecord.idOf(key), maxProperties, maxPropertiesBytes);
    }
    n.on(MergeCodec.decodeMessage(r.message), effects(project));
    keep(key, n, n.busy(), n.kind() == PersonNode.Kind.UNBORN, before, n.oldestHold());
  }

  @Override
  protected byte[] encode(PersonNode n) {
    return MergeCodec.encode(n);
  }

  private MergeEffects effects(String project) {
    return new MergeEffects() {
      @Override
      public void toPerson(String personId, MergeMessage m) {
        throw new IllegalStateException("PERSONS sends to PERSONS only through the loop");
      }

      @Override
      public void loopToPerson(String personId, MergeMessage m) {
        loop(LoopRecord.TO_PERSONS, LoopRecord.key(project, personId), m);
      }

      @Override
      public void loopToLinks(String distinctId, MergeMessage m) {
        if (m instanceof MergeMessage.Bounce b && b.routed() != null) {
          bounces.inc();
        }
        loop(LoopRecord.TO_LINKS, LoopRecord.key(project, distinctId), m);
      }

      @Override
      public void enriched(ValidEvent event, PersonState person, PersonModel.Outcome outcome) {
        if (outcome.propertiesCapped()) {
          propertiesCapped.inc();
          output.collect(
              Tags.WARNINGS,
              new StreamRecord<>(
                  TallyRow.warning(
                      event.project, event.timestampMillis, TallyRow.WARNING_PROPERTIES_CAPPED),
                  event.timestampMillis));
        }
        if (outcome.mergeRefused()) {
          mergeRefused.inc();
          output.collect(
              Tags.WARNINGS,
              new StreamRecord<>(
                  TallyRow.warning(
                      event.project, event.timestampMillis, TallyRow.WARNING_MERGE_REFUSED),
                  event.timestampMillis));
        }
        if (outcome.mergedAway() != null) {
          merges.inc();
        }
        output.collect(
            new StreamRecord<>(
                new EnrichedRecord(event, person.getPersonId(), person.getProperties()),
                event.timestampMillis));
      }

      @Override
      public void failed(ValidEvent event, RuntimeException cause) {
        // a poison event must not become a restart loop: dead-letter it, keep the ledger balanced
        processingErrors.inc();
        LOG.warn("processing {} failed; dead-lettered: {}", event, cause.toString());
        output.collect(
            Tags.DEAD_LETTERS,
            new StreamRecord<>(
                new DeadLetterRecord(
                    "processing_error:" + cause.getClass().getSimpleName(),
                    event.toOriginalJson().getBytes(StandardCharsets.UTF_8),
                    event.project + "/" + event.uuid)));
        output.collect(
            Tags.LEDGER,
            new StreamRecord<>(LedgerEntry.processingError(event), event.timestampMillis));
      }
    };
  }

  private void loop(byte to, String key, MergeMessage m) {
    LoopRecord r = new LoopRecord(to, key, MergeCodec.encode(m));
    r.epoch = epoch;
    r.keyGroups = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
    r.fromKeyGroup =
        org.apache.flink.runtime.state.KeyGroupRangeAssignment.assignToKeyGroup(
            getCurrentKey(), r.keyGroups);
    output.collect(LOOP, new StreamRecord<>(r));
  }
}
