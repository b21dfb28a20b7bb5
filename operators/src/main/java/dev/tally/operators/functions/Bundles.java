package dev.tally.operators.functions;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.TallyRow;
import java.util.LinkedHashSet;
import org.apache.flink.api.common.functions.AggregateFunction;

/**
 * How {@link PreAggregate} merges the records in front of each keyed operator. Each merge is
 * exactly what the keyed operator would have computed from the records one by one.
 */
public final class Bundles {
  private Bundles() {}

  /** Contributions to one aggregate row: events summed, persons as a set. */
  public static final class Contributions
      implements AggregateFunction<Contribution, Contributions.Acc, Contribution> {
    /** A row's bundle. */
    public static final class Acc {
      TallyRow row;
      long events;
      final LinkedHashSet<String> personIds = new LinkedHashSet<>();
    }

    @Override
    public Acc createAccumulator() {
      return new Acc();
    }

    @Override
    public Acc add(Contribution c, Acc acc) {
      acc.row = acc.row != null ? acc.row : c.row;
      acc.events += c.events;
      for (String personId : c.personIds) {
        acc.personIds.add(personId);
      }
      return acc;
    }

    @Override
    public Contribution getResult(Acc acc) {
      return new Contribution(acc.row, acc.events, acc.personIds.toArray(String[]::new));
    }

    @Override
    public Acc merge(Acc a, Acc b) {
      a.row = a.row != null ? a.row : b.row;
      a.events += b.events;
      a.personIds.addAll(b.personIds);
      return a;
    }
  }

  /** Ledger entries of one (project, hour): counters summed. */
  public static final class Ledger
      implements AggregateFunction<LedgerEntry, LedgerEntry, LedgerEntry> {
    @Override
    public LedgerEntry createAccumulator() {
      return new LedgerEntry();
    }

    @Override
    public LedgerEntry add(LedgerEntry e, LedgerEntry acc) {
      if (acc.project == null) {
        acc.project = e.project;
        acc.hourStart = e.hourStart;
      }
      acc.consumed += e.consumed;
      acc.aggregated += e.aggregated;
      acc.duplicates += e.duplicates;
      acc.tooLate += e.tooLate;
      acc.deadLettered += e.deadLettered;
      return acc;
    }

    @Override
    public LedgerEntry getResult(LedgerEntry acc) {
      return acc;
    }

    @Override
    public LedgerEntry merge(LedgerEntry a, LedgerEntry b) {
      return add(b, a);
    }
  }

  /**
   * Positions read from one Kafka partition, as a partial {@link TallyRow#sourceOffsets} row: first
   * offset, one past the last, records read, newest valid event time.
   */
  public static final class Offsets implements AggregateFunction<ParsedRecord, TallyRow, TallyRow> {
    @Override
    public TallyRow createAccumulator() {
      return null; // created from the first position (it names the partition)
    }

    @Override
    public TallyRow add(ParsedRecord r, TallyRow acc) {
      if (acc == null) {
        acc = TallyRow.sourceOffsets(r.topic, r.partition);
        acc.firstOffset = r.offset;
        acc.nextOffset = r.offset;
      }
      acc.firstOffset = Math.min(acc.firstOffset, r.offset);
      acc.nextOffset = Math.max(acc.nextOffset, r.offset + 1);
      acc.maxEventMillis = Math.max(acc.maxEventMillis, r.eventTimeMillis);
      acc.consumed++;
      return acc;
    }

    @Override
    public TallyRow getResult(TallyRow acc) {
      return acc;
    }

    @Override
    public TallyRow merge(TallyRow a, TallyRow b) {
      if (a == null || b == null) {
        return a == null ? b : a;
      }
      TrackOffsets.mergeInto(a, b);
      return a;
    }
  }
}
