package dev.tally.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.PipelineSettings;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.validation.Rfc3339;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.util.Collector;
import org.junit.jupiter.api.Test;

class CountEventsAndPersonsTest {
  private static final long MINUTE = Rfc3339.parseMillis("2026-11-23T10:00:00Z");

  /** The count with 5 minutes of allowed lateness, keyed by row like the job. */
  private static KeyedOneInputStreamOperatorTestHarness<String, Contribution, TallyRow> harness()
      throws Exception {
    return harness(PipelineSettings.DEFAULT_COUNT_CACHED_PERSONS);
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, Contribution, TallyRow> harness(
      int cachedPersons) throws Exception {
    return new KeyedOneInputStreamOperatorTestHarness<>(
        new CountEventsAndPersons(Duration.ofMinutes(5), cachedPersons),
        Contribution::key,
        Types.STRING);
  }

  @Test
  void shouldEmitAbsoluteRevisionsAndClearStateAndTimersAfterAllowedLateness() throws Exception {
    var h = harness();
    h.open();
    TallyRow row = TallyRow.eventCount("acme", TallyRow.MINUTE, MINUTE, "$pageview");
    h.processElement(new Contribution(row, "p1"), MINUTE + 1);
    h.processElement(new Contribution(row, "p2"), MINUTE + 2);
    h.processElement(new Contribution(row, "p1"), MINUTE + 3);
    h.processElement(new Contribution(row, 5, new String[] {"p2", "p3"}), MINUTE + 4);

    List<TallyRow> out = h.extractOutputValues();
    assertThat(out).extracting(r -> r.events).containsExactly(1L, 2L, 3L, 8L);
    assertThat(out).extracting(r -> r.persons).containsExactly(1L, 2L, 2L, 3L);
    assertThat(out).extracting(r -> r.revision).containsExactly(1L, 2L, 3L, 4L);
    assertThat(h.numEventTimeTimers()).isEqualTo(1);

    long cleanup = MINUTE + 60_000 + 300_000; // window end + allowed lateness
    h.snapshot(1, 1); // the rows in memory are written to state at each checkpoint
    h.processWatermark(new Watermark(cleanup - 1));
    assertThat(h.numKeyedStateEntries())
        .as("state kept while the window may still change")
        .isPositive();
    h.processWatermark(new Watermark(cleanup));
    assertThat(h.numKeyedStateEntries()).isZero();
    assertThat(h.numEventTimeTimers()).isZero();
    h.close();
  }

  @Test
  void shouldCountEachPersonOncePerRowAcrossBatchesAndARestore() throws Exception {
    TallyRow hour = TallyRow.eventCount("acme", TallyRow.HOUR, MINUTE, "$pageview");
    TallyRow other = TallyRow.eventCount("acme", TallyRow.HOUR, MINUTE, "signup");
    // the same persons in two rows, in overlapping batches
    var h = harness();
    h.open();
    String[][] batches = {{"p1", "p2"}, {"p3", "p1"}, {"p2", "p4"}, {"p1"}};
    for (String[] persons : batches) {
      h.processElement(new Contribution(hour, persons.length, persons), MINUTE);
      h.processElement(new Contribution(other, persons.length, persons), MINUTE);
    }
    var snapshot = h.snapshot(1, 1);
    List<TallyRow> before = h.extractOutputValues();
    assertThat(before.subList(before.size() - 2, before.size()))
        .as("both rows counted p1..p4 once each")
        .extracting(r -> r.event + "=" + r.persons)
        .containsExactly("$pageview=4", "signup=4");
    h.close();

    // restored: the keyed state still knows p1..p4
    var restored = harness();
    restored.initializeState(snapshot);
    restored.open();
    restored.processElement(new Contribution(hour, 2, new String[] {"p4", "p5"}), MINUTE);
    restored.processElement(new Contribution(hour, 1, new String[] {"p5"}), MINUTE);
    List<TallyRow> out = restored.extractOutputValues();
    assertThat(out).extracting(r -> r.persons).containsExactly(5L, 5L);
    assertThat(out).extracting(r -> r.events).containsExactly(9L, 10L);
    restored.close();
  }

  @Test
  void shouldCountExactlyWhileTheCacheGivesRowsUpAndAcrossRestores() throws Exception {
    // many rows, persons repeating within and across them, a budget far below what they hold:
    // rows are written back and read again all the time, and the count stays the sets' sizes
    java.util.Random random = new java.util.Random(15);
    Map<String, Set<String>> expected = new TreeMap<>();
    Map<String, Long> last = new TreeMap<>();
    var h = harness(7);
    h.open();
    for (int round = 0; round < 4; round++) {
      for (int i = 0; i < 400; i++) {
        TallyRow r = TallyRow.eventCount("acme", TallyRow.HOUR, MINUTE, "e" + random.nextInt(12));
        String[] ids = {"p" + random.nextInt(30), "p" + random.nextInt(30)};
        expected.computeIfAbsent(r.event, k -> new java.util.HashSet<>()).addAll(List.of(ids));
        h.processElement(new Contribution(r, ids.length, ids), MINUTE);
      }
      for (TallyRow out : h.extractOutputValues()) {
        last.put(out.event, out.persons);
      }
      var snapshot = h.snapshot(round, round);
      h.close();
      h = harness(round % 2 == 0 ? 0 : 7); // restored with the cache off, then on again
      h.initializeState(snapshot);
      h.open();
    }
    h.close();
    Map<String, Long> sizes = new TreeMap<>();
    expected.forEach((event, ids) -> sizes.put(event, (long) ids.size()));
    assertThat(last).isEqualTo(sizes);
  }

  @Test
  void shouldForgetACachedRowWhenItsWindowIsCleanedUpAndNeverWriteItBack() throws Exception {
    var h = harness();
    h.open();
    TallyRow row = TallyRow.eventCount("acme", TallyRow.MINUTE, MINUTE, "$pageview");
    h.processElement(new Contribution(row, 2, new String[] {"p1", "p2"}), MINUTE + 1);
    assertThat(h.numKeyedStateEntries())
        .as("a row born in memory is not written before the snapshot")
        .isZero();
    h.snapshot(1, 1);
    assertThat(h.numKeyedStateEntries()).as("the row and its persons").isEqualTo(2);
    h.processElement(new Contribution(row, 1, new String[] {"p3"}), MINUTE + 2);
    h.processWatermark(new Watermark(MINUTE + 60_000 + 300_000));
    h.snapshot(2, 2);
    assertThat(h.numKeyedStateEntries()).isZero();
    assertThat(h.numEventTimeTimers()).isZero();
    h.close();
  }

  @Test
  void shouldRestoreTheStateOfTheKeyedProcessFunctionItReplaced() throws Exception {
    // a savepoint of the count as it was before the cache: same state names and timers
    TallyRow row = TallyRow.eventCount("acme", TallyRow.MINUTE, MINUTE, "$pageview");
    var old =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(new BeforeTheCache(Duration.ofMinutes(5))),
            Contribution::key,
            Types.STRING);
    old.open();
    old.processElement(new Contribution(row, 2, new String[] {"p1", "p2"}), MINUTE + 1);
    var snapshot = old.snapshot(1, 1);
    old.close();

    var h = harness();
    h.initializeState(snapshot);
    h.open();
    assertThat(h.numEventTimeTimers()).as("the old cleanup timer").isEqualTo(1);
    h.processElement(new Contribution(row, 2, new String[] {"p2", "p3"}), MINUTE + 2);
    assertThat(h.extractOutputValues())
        .extracting(r -> r.events + "/" + r.persons + " r" + r.revision)
        .containsExactly("4/3 r2");
    h.processWatermark(new Watermark(MINUTE + 60_000 + 300_000));
    assertThat(h.numKeyedStateEntries()).as("cleaned up by the old timer").isZero();
    h.close();
  }

  /** The count as it was before the cache (2026-12-02), to take a savepoint of it. */
  static final class BeforeTheCache
      extends org.apache.flink.streaming.api.functions.KeyedProcessFunction<
          String, Contribution, TallyRow> {
    private final long allowedLatenessMillis;
    private transient org.apache.flink.api.common.state.ValueState<TallyRow> row;
    private transient org.apache.flink.api.common.state.MapState<String, Boolean> persons;

    BeforeTheCache(Duration allowedLateness) {
      this.allowedLatenessMillis = allowedLateness.toMillis();
    }

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext openContext) {
      row =
          getRuntimeContext()
              .getState(
                  new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                      "row", TallyRow.class));
      persons =
          getRuntimeContext()
              .getMapState(
                  new org.apache.flink.api.common.state.MapStateDescriptor<>(
                      "persons", Types.STRING, Types.BOOLEAN));
    }

    @Override
    public void processElement(Contribution c, Context ctx, Collector<TallyRow> out)
        throws Exception {
      TallyRow current = row.value();
      if (current == null) {
        current = c.row.copy();
        ctx.timerService().registerEventTimeTimer(current.windowEnd() + allowedLatenessMillis);
      }
      current.events += c.events;
      for (String personId : c.personIds) {
        if (!persons.contains(personId)) {
          persons.put(personId, Boolean.TRUE);
          current.persons++;
        }
      }
      current.revision++;
      row.update(current);
      out.collect(current.copy());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<TallyRow> out) {
      row.clear();
      persons.clear();
    }
  }
}
