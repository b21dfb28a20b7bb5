package dev.tally.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.json.Json;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import dev.tally.operators.persons.merge.LoopRecord;
import dev.tally.operators.persons.merge.MergeProtocolPropertiesTest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * LINKS and PERSONS as Flink operators, wired in the test by hand: LINKS' output feeds PERSONS'
 * first input, PERSONS' loop output feeds LINKS' or PERSONS' second input (the loop topic). State
 * goes through the real keyed state and its bytes; snapshots are taken and restored in the middle
 * of merges, with the loop's undelivered messages kept, as the loop topic keeps them.
 */
class PersonsLoopHarnessTest {
  private KeyedTwoInputStreamOperatorTestHarness<String, ValidEvent, LoopRecord, LoopRecord> links;
  private KeyedTwoInputStreamOperatorTestHarness<String, LoopRecord, LoopRecord, EnrichedRecord>
      persons;

  /** The loop topic: messages written and not yet delivered, in order. */
  private final Deque<LoopRecord> loop = new ArrayDeque<>();

  private final Map<String, EnrichedRecord> enriched = new LinkedHashMap<>();
  private int refusals;
  private Random random;
  private int bouncesDelivered;
  private int restartsWithMessagesInFlight;

  private void start(OperatorSubtaskState linksState, OperatorSubtaskState personsState)
      throws Exception {
    start(linksState, personsState, 0);
  }

  private void start(
      OperatorSubtaskState linksState, OperatorSubtaskState personsState, long restoredCheckpoint)
      throws Exception {
    links =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new RouteByDistinctId(),
            e -> LoopRecord.key(e.project, e.distinctId),
            r -> r.key,
            Types.STRING);
    persons =
        new KeyedTwoInputStreamOperatorTestHarness<>(
            new ApplyToPerson(PersonModel.UNLIMITED, PersonModel.UNLIMITED),
            r -> r.key,
            r -> r.key,
            Types.STRING);
    if (restoredCheckpoint > 0) {
      persons.setRestoredCheckpointId(restoredCheckpoint);
    }
    if (linksState != null) {
      links.initializeState(linksState);
      persons.initializeState(personsState);
    }
    links.open();
    persons.open();
  }

  /** Moves what LINKS emitted to PERSONS (the data channel, FIFO, at once). */
  private void dataChannel() throws Exception {
    for (Object o : new ArrayList<>(links.getOutput())) {
      if (o instanceof StreamRecord<?> r) {
        persons.processElement1((StreamRecord<LoopRecord>) r);
      }
    }
    links.getOutput().clear();
    collect();
  }

  @SuppressWarnings("unchecked")
  private void collect() {
    var side = persons.getSideOutput(ApplyToPerson.LOOP);
    if (side != null) {
      side.forEach(r -> loop.add(r.getValue()));
      side.clear();
    }
    for (Object o : persons.getOutput()) {
      if (o instanceof StreamRecord<?> r) {
        EnrichedRecord e = (EnrichedRecord) r.getValue();
        assertThat(enriched.put(e.event.uuid, e)).as("enriched twice: " + e).isNull();
      }
    }
    persons.getOutput().clear();
    var warnings = persons.getSideOutput(Tags.WARNINGS);
    if (warnings != null) {
      for (StreamRecord<TallyRow> w : warnings) {
        if (TallyRow.WARNING_MERGE_REFUSED.equals(w.getValue().event)) {
          refusals++;
        }
      }
      warnings.clear();
    }
  }

  /** Delivers one loop message (any of them, as partitions interleave; order per key pair kept). */
  private void deliverOne() throws Exception {
    // the loop keeps order per (sender, receiver); picking the head of the whole topic keeps it
    LoopRecord r = loop.poll();
    if (r.to == LoopRecord.TO_LINKS) {
      bouncesDelivered++;
      links.processElement2(new StreamRecord<>(r));
    } else {
      persons.processElement2(new StreamRecord<>(r));
    }
    dataChannel();
  }

  private void restart() throws Exception {
    // an aligned checkpoint: the data channel is empty; the loop's messages stay in the topic
    if (!loop.isEmpty()) {
      restartsWithMessagesInFlight++;
    }
    OperatorSubtaskState l = links.snapshot(1, 1);
    OperatorSubtaskState p = persons.snapshot(1, 1);
    links.close();
    persons.close();
    start(l, p);
  }

  private void runSequence(List<ValidEvent> in, boolean drained, double restartChance)
      throws Exception {
    for (ValidEvent e : in) {
      links.processElement1(new StreamRecord<>(e, e.timestampMillis));
      dataChannel();
      int budget = drained ? Integer.MAX_VALUE : random.nextInt(3);
      while (!loop.isEmpty() && budget-- > 0) {
        if (random.nextDouble() < restartChance) {
          restart();
        }
        deliverOne();
      }
    }
    while (!loop.isEmpty()) {
      if (random.nextDouble() < restartChance) {
        restart();
      }
      deliverOne();
    }
  }

  /** The sequential model, in {@code order}: each event's person and the final persons. */
  private static Map<String, EnrichedRecord> sequential(List<ValidEvent> order, int[] refused)
      throws Exception {
    PersonModel.Store store = new dev.tally.operators.persons.MapStore();
    Map<String, EnrichedRecord> out = new LinkedHashMap<>();
    for (ValidEvent e : order) {
      PersonModel.Outcome o =
          PersonModel.apply(store, e, Json.parseTrustedObject(e.propertiesJson));
      refused[0] += o.mergeRefused() ? 1 : 0;
      out.put(e.uuid, new EnrichedRecord(e, o.person().getPersonId(), o.person().getProperties()));
    }
    return out;
  }

  private static List<ValidEvent> randomEvents(Random random, int n) {
    List<MergeProtocolPropertiesTest.Spec> specs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      specs.add(
          new MergeProtocolPropertiesTest.Spec(
              random.nextInt(5), random.nextInt(6), random.nextInt(5), random.nextInt(4)));
    }
    return MergeProtocolPropertiesTest.events(specs);
  }

  /**
   * Runs one seed's random events; the result must equal the sequential model in {@code order}
   * (null: the order the events were applied in, a serialization).
   */
  private void runSeed(int seed, boolean drained, double restartChance) throws Exception {
    random = new Random(seed);
    enriched.clear();
    refusals = 0;
    List<ValidEvent> in = randomEvents(random, 16);
    start(null, null);
    runSequence(in, drained, restartChance);
    assertThat(enriched.keySet()).as("every event enriched once, seed " + seed).hasSize(16);
    List<ValidEvent> order = in;
    if (!drained) {
      order = new ArrayList<>();
      for (EnrichedRecord r : enriched.values()) {
        order.add(r.event);
      }
    }
    int[] refused = {0};
    assertThat(enriched).as("seed " + seed).isEqualTo(sequential(order, refused));
    assertThat(refusals).as("refused merges, seed " + seed).isEqualTo(refused[0]);
    links.close();
    persons.close();
  }

  @Test
  void drainedTheOperatorsEnrichEveryEventAsTheSequentialModel() throws Exception {
    for (int seed = 0; seed < 40; seed++) {
      runSeed(seed, true, 0);
    }
  }

  @Test
  void restoredInTheMiddleOfMergesTheyEndAsTheSequentialModelInTheOrderApplied() throws Exception {
    for (int seed = 0; seed < 40; seed++) {
      runSeed(seed, false, 0.3);
    }
    assertThat(bouncesDelivered).as("the runs re-routed merged ids").isGreaterThan(20);
    assertThat(restartsWithMessagesInFlight)
        .as("restores in the middle of merges")
        .isGreaterThan(20);
  }

  /** d0 and d1 get persons, d0 identifies d1 (a merge), d0's next event waits behind it. */
  private List<ValidEvent> sendAMergeAndAnEventBehindIt() throws Exception {
    List<ValidEvent> in =
        MergeProtocolPropertiesTest.events(
            List.of(
                new MergeProtocolPropertiesTest.Spec(0, 0, 0, 1), // d0 $set
                new MergeProtocolPropertiesTest.Spec(1, 0, 0, 2), // d1 $set
                new MergeProtocolPropertiesTest.Spec(0, 3, 1, 0), // d0 identifies d1: a merge
                new MergeProtocolPropertiesTest.Spec(0, 0, 0, 3))); // d0's next event waits
    for (ValidEvent e : in) {
      links.processElement1(new StreamRecord<>(e, e.timestampMillis));
      dataChannel();
    }
    assertThat(loop).as("the merge is in the loop").isNotEmpty();
    return in;
  }

  @Test
  void anEventParkedBehindALinkHoldsTheWatermarkUntilItIsApplied() throws Exception {
    random = new Random(1);
    start(null, null);
    long t0 = 1_796_292_000_000L;
    List<ValidEvent> in = sendAMergeAndAnEventBehindIt();
    long linkTime = in.get(2).timestampMillis;
    links.processWatermark1(new Watermark(t0 + 3_600_000));
    dataChannel();
    for (Object o : new ArrayList<>(links.getOutput())) {
      if (o instanceof Watermark w) {
        persons.processWatermark1(w);
      }
    }
    links.getOutput().clear();
    // PERSONS holds its watermark below the parked link event
    assertThat(watermarks(persons)).allMatch(w -> w < linkTime);
    persons.getOutput().clear();
    while (!loop.isEmpty()) {
      deliverOne();
    }
    persons.processWatermark1(new Watermark(t0 + 3_600_000));
    assertThat(enriched).hasSize(4);
    assertThat(watermarks(persons)).as("released once applied").contains(t0 + 3_600_000);
  }

  private static List<Long> watermarks(
      KeyedTwoInputStreamOperatorTestHarness<String, LoopRecord, LoopRecord, EnrichedRecord> h) {
    List<Long> out = new ArrayList<>();
    for (Object o : h.getOutput()) {
      if (o instanceof Watermark w) {
        out.add(w.getTimestamp());
      }
    }
    return out;
  }

  @Test
  void everyLoopMessageIsStampedWithTheEpochOfTheCheckpointItPrecedes() throws Exception {
    random = new Random(1);
    start(null, null);
    sendAMergeAndAnEventBehindIt();
    assertThat(loop).as("before the first checkpoint").allMatch(r -> r.epoch == 1);

    // barrier 5: what PERSONS sends after it goes into the loop writer's transaction of 6
    OperatorSubtaskState l = links.snapshot(5, 1);
    OperatorSubtaskState p = persons.snapshot(5, 1);
    int before = loop.size();
    deliverOne();
    List<LoopRecord> after = new ArrayList<>(loop).subList(before - 1, loop.size());
    assertThat(after).as("sent after barrier 5").isNotEmpty().allMatch(r -> r.epoch == 6);

    // restored from checkpoint 5: the next transaction is 6 again
    links.close();
    persons.close();
    loop.clear();
    start(l, p, 5);
    assertThat(((ApplyToPerson) persons.getOperator()).epoch()).isEqualTo(6);
    links.close();
    persons.close();
  }
}
