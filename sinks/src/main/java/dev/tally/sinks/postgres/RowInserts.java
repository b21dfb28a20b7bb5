package dev.tally.sinks.postgres;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.TallyRow;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.EnumMap;
import java.util.Map;

/**
 * How a {@link TallyRow} binds to its table's insert ({@link TallyTable#insertSql}): one
 * parameterized insert per table, in the spec's column order. Every row version is a new insert; a
 * (key, revision) that already exists carries the same values, so retries are safe.
 */
final class RowInserts {
  interface Binder {
    void bind(PreparedStatement ps, String generation, TallyRow r) throws SQLException;
  }

  /**
   * An insert whose last two parameters are the row's provenance: the writer subtask and the
   * checkpoint number of its transaction (as in {@code tally.sink_commits}).
   */
  record Insert(String sql, Binder binder, int parameters) {
    Insert(String sql, Binder binder) {
      this(sql, binder, (int) sql.chars().filter(c -> c == '?').count());
    }

    void bind(PreparedStatement ps, String generation, TallyRow r, int subtask, long checkpoint)
        throws SQLException {
      binder.bind(ps, generation, r);
      ps.setInt(parameters - 1, subtask);
      ps.setLong(parameters, checkpoint);
    }
  }

  static final Map<TallyRow.Table, Insert> BY_TABLE = new EnumMap<>(TallyRow.Table.class);

  static {
    BY_TABLE.put(
        TallyRow.Table.EVENT_COUNTS,
        new Insert(
            TallyTable.EVENT_COUNTS.insertSql(),
            (ps, g, r) -> {
              ps.setString(1, g);
              ps.setString(2, r.project);
              ps.setString(3, r.grain);
              ps.setLong(4, r.windowStart);
              ps.setString(5, r.event);
              ps.setLong(6, r.revision);
              ps.setLong(7, r.events);
              ps.setLong(8, r.persons);
            }));
    BY_TABLE.put(
        TallyRow.Table.BREAKDOWN_COUNTS,
        new Insert(
            TallyTable.BREAKDOWN_COUNTS.insertSql(),
            (ps, g, r) -> {
              ps.setString(1, g);
              ps.setString(2, r.project);
              ps.setLong(3, r.windowStart);
              ps.setString(4, r.event);
              ps.setString(5, r.property);
              ps.setString(6, r.value);
              ps.setLong(7, r.revision);
              ps.setLong(8, r.events);
              ps.setLong(9, r.persons);
            }));
    BY_TABLE.put(
        TallyRow.Table.LEDGER,
        new Insert(
            TallyTable.LEDGER.insertSql(),
            (ps, g, r) -> {
              ps.setString(1, g);
              ps.setString(2, r.project);
              setLongOrNull(ps, 3, r.windowStart, LedgerEntry.NO_HOUR);
              ps.setLong(4, r.revision);
              ps.setLong(5, r.consumed);
              ps.setLong(6, r.aggregated);
              ps.setLong(7, r.duplicates);
              ps.setLong(8, r.tooLate);
              ps.setLong(9, r.deadLettered);
            }));
    BY_TABLE.put(
        TallyRow.Table.SOURCE_OFFSETS,
        new Insert(
            TallyTable.SOURCE_OFFSETS.insertSql(),
            (ps, g, r) -> {
              ps.setString(1, g);
              ps.setString(2, r.project);
              ps.setInt(3, (int) r.windowStart);
              ps.setLong(4, r.revision);
              ps.setLong(5, r.firstOffset);
              ps.setLong(6, r.nextOffset);
              ps.setLong(7, r.consumed);
              setLongOrNull(ps, 8, r.maxEventMillis, Long.MIN_VALUE);
            }));
    BY_TABLE.put(
        TallyRow.Table.DAILY_ACTIVE,
        new Insert(
            TallyTable.DAILY_ACTIVE.insertSql(),
            (ps, g, r) -> {
              ps.setString(1, g);
              ps.setString(2, r.project);
              ps.setLong(3, r.windowStart);
              ps.setLong(4, r.revision);
              ps.setLong(5, r.events);
              ps.setLong(6, r.persons);
            }));
    BY_TABLE.put(
        TallyRow.Table.WARNINGS,
        new Insert(
            TallyTable.WARNINGS.insertSql(),
            (ps, g, r) -> {
              ps.setString(1, g);
              ps.setString(2, r.project);
              ps.setLong(3, r.windowStart);
              ps.setString(4, r.event);
              ps.setLong(5, r.revision);
              ps.setLong(6, r.events);
            }));
  }

  private RowInserts() {}

  static void setLongOrNull(PreparedStatement ps, int index, long value, long nullValue)
      throws SQLException {
    if (value == nullValue) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }
}
