package dev.tally.sinks.postgres;

import dev.tally.operators.model.TallyRow;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The versioned tables of {@code tally.*} that the sink writes, one spec each: the key that names a
 * row, its value columns, and how a key column is written. The sink's insert, its compaction of
 * superseded versions and the blue/green copy of a generation's rows are generated from this spec,
 * so the schema is spelled out once (checked against the migrated schema by {@code
 * TallyTableTest}).
 *
 * <p>Every table is {@code (generation, key…, revision, value…, sink_subtask, sink_checkpoint)}; a
 * row version is never updated, a newer revision supersedes it.
 */
public enum TallyTable {
  EVENT_COUNTS(
      TallyRow.Table.EVENT_COUNTS,
      "event_counts",
      List.of(
          Column.of("project"),
          Column.of("grain"),
          Column.epochMillis("window_start"),
          Column.of("event")),
      List.of("events", "persons")),
  BREAKDOWN_COUNTS(
      TallyRow.Table.BREAKDOWN_COUNTS,
      "breakdown_counts",
      List.of(
          Column.of("project"),
          Column.epochMillis("window_start"),
          Column.of("event"),
          Column.of("property"),
          // values are never truncated, so rows are matched by the value's indexed digest
          Column.of("value").matchedBy("value_sha256")),
      List.of("events", "persons")),
  LEDGER(
      TallyRow.Table.LEDGER,
      "ledger",
      // a null hour is the ledger of events without a valid timestamp
      List.of(Column.of("project"), Column.epochMillis("hour").mayBeNull()),
      List.of("consumed", "aggregated", "duplicates", "too_late", "dead_lettered")),
  SOURCE_OFFSETS(
      TallyRow.Table.SOURCE_OFFSETS,
      "source_offsets",
      List.of(Column.of("topic"), Column.of("partition")),
      List.of("first_offset", "next_offset", "records", "max_event_ms")),
  DAILY_ACTIVE(
      TallyRow.Table.DAILY_ACTIVE,
      "daily_active",
      List.of(Column.of("project"), Column.utcDay("day")),
      List.of("events", "persons")),
  WARNINGS(
      TallyRow.Table.WARNINGS,
      "ingestion_warnings",
      List.of(Column.of("project"), Column.epochMillis("hour"), Column.of("kind")),
      List.of("occurrences"));

  /**
   * A key column: its name, the SQL its bound parameter is written through, the column rows are
   * matched on, and whether it may be null.
   */
  record Column(String name, String parameter, String matchColumn, boolean nullable) {
    static Column of(String name) {
      return new Column(name, "?", name, false);
    }

    /** Bound as epoch milliseconds, stored as a timestamp. */
    static Column epochMillis(String name) {
      return new Column(name, "to_timestamp(? / 1000.0)", name, false);
    }

    /** Bound as epoch milliseconds, stored as the UTC date it falls on. */
    static Column utcDay(String name) {
      return new Column(name, "(to_timestamp(? / 1000.0) AT TIME ZONE 'UTC')::date", name, false);
    }

    Column matchedBy(String column) {
      return new Column(name, parameter, column, nullable);
    }

    Column mayBeNull() {
      return new Column(name, parameter, matchColumn, true);
    }

    String matches(String a, String b) {
      return a
          + "."
          + matchColumn
          + (nullable ? " IS NOT DISTINCT FROM " : " = ")
          + b
          + "."
          + matchColumn;
    }
  }

  /**
   * Pauses compaction while a generation is held (a blue/green copy reads it as of a savepoint).
   */
  private static final String NOT_HELD =
      " AND NOT EXISTS (SELECT 1 FROM tally.compaction_holds h WHERE h.generation = e.generation)";

  final TallyRow.Table rows;
  final String name;
  final List<Column> key;
  final List<String> values;

  TallyTable(TallyRow.Table rows, String name, List<Column> key, List<String> values) {
    this.rows = rows;
    this.name = name;
    this.key = key;
    this.values = values;
  }

  /** The table's name in the {@code tally} schema. */
  public String tableName() {
    return name;
  }

  /** The table that holds rows of {@code table}. */
  static TallyTable of(TallyRow.Table table) {
    for (TallyTable t : values()) {
      if (t.rows == table) {
        return t;
      }
    }
    throw new IllegalArgumentException("no tally table for " + table);
  }

  private String keyColumns() {
    return key.stream().map(Column::name).collect(Collectors.joining(", "));
  }

  private String valueColumns() {
    return String.join(", ", values);
  }

  /**
   * One row version: {@code generation, key…, revision, value…, subtask, checkpoint} as parameters,
   * in that order. A retried insert of the same (key, revision) carries the same values, so it does
   * nothing.
   */
  String insertSql() {
    String params =
        key.stream().map(Column::parameter).collect(Collectors.joining(", "))
            + ", ?"
            + ", ?".repeat(values.size());
    return "INSERT INTO tally."
        + name
        + " (generation, "
        + keyColumns()
        + ", revision, "
        + valueColumns()
        + ", sink_subtask, sink_checkpoint) VALUES (?, "
        + params
        + ", ?, ?) ON CONFLICT DO NOTHING";
  }

  /**
   * Deletes the generation's (only parameter) versions that a committed newer revision of the same
   * key supersedes, unless the generation is held. It sees committed rows only, so it never touches
   * a row a prepared transaction holds.
   */
  String compactionSql() {
    String sameKey =
        key.stream().map(c -> " AND " + c.matches("n", "e")).collect(Collectors.joining());
    return "DELETE FROM tally."
        + name
        + " e USING tally."
        + name
        + " n WHERE e.generation = ? AND n.generation = e.generation"
        + sameKey
        + " AND n.revision > e.revision"
        + NOT_HELD;
  }

  /**
   * Copies the newest version of every key of one generation into another, with its revision, as of
   * a boundary: a row a subtask wrote in a transaction after its prepared checkpoint is left out.
   * Parameters: the new generation, the subtasks and their prepared checkpoints (two arrays), the
   * old generation. Rows without provenance predate every boundary and are copied.
   */
  String copyAsOfSql() {
    return "INSERT INTO tally."
        + name
        + " (generation, "
        + keyColumns()
        + ", revision, "
        + valueColumns()
        + ") SELECT DISTINCT ON ("
        + keyColumns()
        + ") ?, "
        + keyColumns()
        + ", revision, "
        + valueColumns()
        + " FROM tally."
        + name
        + " r LEFT JOIN unnest(?::integer[], ?::bigint[]) AS b(subtask, prepared)"
        + " ON b.subtask = r.sink_subtask WHERE r.generation = ?"
        + " AND (r.sink_subtask IS NULL OR b.prepared IS NULL OR r.sink_checkpoint <= b.prepared)"
        + " ORDER BY "
        + keyColumns()
        + ", revision DESC";
  }
}
