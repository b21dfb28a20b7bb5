package dev.tally.operators.functions;

import dev.tally.operators.model.TallyRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Keeps one aggregate row (keyed by {@link TallyRow#key()}): the number of events and of distinct
 * person_ids, and emits the row with absolute values and a higher revision on every change, so
 * late-but-allowed events revise it (SEMANTICS.md §6). When the watermark passes window end +
 * allowed lateness no on-time event can arrive any more: an event-time timer then clears the row's
 * state.
 *
 * <p>Exact distinct persons without a state lookup per (row, person) (issue 15, item 2): the rows
 * being counted are kept in memory, each with the person_ids known to be in it, and written to the
 * keyed state (the row, and the persons added since) before each checkpoint's snapshot, or when the
 * cache gives the row up. A row born in memory knows all its persons, so a person it has not seen
 * is new without asking RocksDB; only a row read back from state (after a restore, or after it was
 * given up) asks RocksDB about the persons it does not hold yet. The memory is bounded by {@code
 * cachedPersons} person_ids per subtask, least recently counted rows given up first.
 *
 * <p>The keyed state (names, serializers) and the timers are those of the {@code
 * KeyedProcessFunction} this operator replaced, so savepoints taken before keep working ({@code
 * CountEventsAndPersonsTest}).
 */
public class CountEventsAndPersons extends AbstractStreamOperator<TallyRow>
    implements OneInputStreamOperator<Contribution, TallyRow>, Triggerable<String, VoidNamespace> {
  /** The timer service name of Flink's {@code KeyedProcessOperator}: savepoints hold it. */
  static final String TIMERS = "user-timers";

  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(CountEventsAndPersons.class);

  private final long allowedLatenessMillis;
  private final int cachedPersons;
  private transient ValueState<TallyRow> row;
  private transient MapState<String, Boolean> persons;
  private transient InternalTimerService<VoidNamespace> timers;
  private transient LinkedHashMap<String, Cached> cache;
  private transient long personsInMemory;
  private transient org.apache.flink.metrics.Counter afterCleanup;
  private transient org.apache.flink.metrics.Counter rowsRead;
  private transient org.apache.flink.metrics.Counter personLookups;

  /** A row being counted, as it is now, and what its keyed state lacks. */
  private static final class Cached {
    final TallyRow row;

    /** Born here: {@link #known} holds every person of the row, so no lookup is ever needed. */
    final boolean complete;

    final Set<String> known = new HashSet<>();
    final List<String> added = new ArrayList<>();
    boolean dirty;

    Cached(TallyRow row, boolean complete) {
      this.row = row;
      this.complete = complete;
    }
  }

  public CountEventsAndPersons(Duration allowedLateness, int cachedPersons) {
    if (cachedPersons < 0) {
      throw new IllegalArgumentException("cached persons must not be negative (0 = no cache)");
    }
    this.allowedLatenessMillis = allowedLateness.toMillis();
    this.cachedPersons = cachedPersons;
  }

  @Override
  public void open() throws Exception {
    super.open();
    row = getRuntimeContext().getState(new ValueStateDescriptor<>("row", TallyRow.class));
    persons =
        getRuntimeContext()
            .getMapState(new MapStateDescriptor<>("persons", Types.STRING, Types.BOOLEAN));
    timers = getInternalTimerService(TIMERS, VoidNamespaceSerializer.INSTANCE, this);
    cache = new LinkedHashMap<>(16, 0.75f, true); // access order: the eldest is given up first
    personsInMemory = 0;
    var metrics = getRuntimeContext().getMetricGroup();
    afterCleanup = metrics.counter("tallyContributionsAfterCleanup");
    rowsRead = metrics.counter("tallyCountRowsRead");
    personLookups = metrics.counter("tallyCountPersonLookups");
    metrics.gauge(
        "tallyCountPersonsInMemory", (org.apache.flink.metrics.Gauge<Long>) () -> personsInMemory);
  }

  @Override
  public void processElement(StreamRecord<Contribution> element) throws Exception {
    Contribution c = element.getValue();
    String key = (String) getCurrentKey();
    Cached r = cache.get(key);
    if (r == null) {
      r = load(c);
      cache.put(key, r);
    }
    r.row.events += c.events;
    for (String personId : c.personIds) {
      if (!r.known.add(personId)) {
        continue; // counted already
      }
      personsInMemory++;
      if (!r.complete) {
        personLookups.inc();
        if (persons.contains(personId)) {
          continue; // counted before the row was read back
        }
      }
      r.added.add(personId);
      r.row.persons++;
    }
    r.row.revision++;
    r.dirty = true;
    output.collect(new StreamRecord<>(r.row.copy(), element.getTimestamp()));
    if (personsInMemory > cachedPersons) {
      giveUpRows(key);
    }
  }

  /** The current key's row read from state, or started (with its cleanup timer). */
  private Cached load(Contribution c) throws Exception {
    TallyRow stored = row.value();
    if (stored != null) {
      rowsRead.inc();
      return new Cached(stored, false);
    }
    long cleanup = cleanupTime(c.row);
    if (cleanup <= timers.currentWatermark()) {
      // Its window was cleaned up, yet lateness upstream let the event through: the row starts
      // again at revision 1 and the committed one keeps its older count. Must never happen
      // (PreAggregate keeps this input active); loud if it does.
      afterCleanup.inc();
      LOG.warn(
          "an on-time contribution reached the count after its window was cleaned up ({} {} {},"
              + " watermark {}): the row undercounts",
          c.row.project,
          c.row.grain,
          c.row.windowStart,
          timers.currentWatermark());
    }
    timers.registerEventTimeTimer(VoidNamespace.INSTANCE, cleanup);
    return new Cached(c.row.copy(), true);
  }

  /** Writes and forgets the least recently counted rows until the budget holds again. */
  private void giveUpRows(String currentKey) throws Exception {
    Iterator<Map.Entry<String, Cached>> eldest = cache.entrySet().iterator();
    while (personsInMemory > cachedPersons && eldest.hasNext()) {
      Map.Entry<String, Cached> e = eldest.next();
      write(e.getKey(), e.getValue());
      personsInMemory -= e.getValue().known.size();
      eldest.remove();
    }
    setCurrentKey(currentKey);
  }

  /** Brings the keyed state of {@code key} up to its row in memory. */
  private void write(String key, Cached r) throws Exception {
    if (!r.dirty) {
      return;
    }
    setCurrentKey(key);
    row.update(r.row);
    for (String personId : r.added) {
      persons.put(personId, Boolean.TRUE);
    }
    r.added.clear();
    r.dirty = false;
  }

  /** Writes every changed row; the keyed state is snapshotted right after this method. */
  @Override
  public void snapshotState(StateSnapshotContext context) throws Exception {
    for (Map.Entry<String, Cached> e : cache.entrySet()) {
      write(e.getKey(), e.getValue());
    }
    super.snapshotState(context);
  }

  private long cleanupTime(TallyRow r) {
    return r.windowEnd() + allowedLatenessMillis;
  }

  @Override
  public void onEventTime(InternalTimer<String, VoidNamespace> timer) {
    Cached r = cache.remove(timer.getKey()); // never written back: the row is done
    if (r != null) {
      personsInMemory -= r.known.size();
    }
    row.clear();
    persons.clear();
  }

  @Override
  public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) {}
}
