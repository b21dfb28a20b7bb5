package dev.tally.operators.model;

import java.util.Objects;

/**
 * One row of an aggregate table with absolute values, as the aggregate sink writes it: an {@code
 * event_counts} row, a {@code breakdown_counts} row or a {@code ledger} row (SEMANTICS.md §7–8).
 * {@code revision} grows with every change of the row, so the newest version of a row is the one
 * with the highest revision.
 */
public class TallyRow {
  public enum Table {
    EVENT_COUNTS,
    BREAKDOWN_COUNTS,
    LEDGER,
    /** Kafka offsets consumed per partition: project = topic, windowStart = partition. */
    SOURCE_OFFSETS,
    /** Distinct persons and events per project and UTC day (streaming job only; not in replay). */
    DAILY_ACTIVE,
    /**
     * Ingestion warnings per project, hour (of the event) and kind ({@code event}), count in {@code
     * events}: refused person merges, capped person properties. Streaming job only.
     */
    WARNINGS
  }

  /** Warning kinds ({@link Table#WARNINGS}). */
  public static final String WARNING_MERGE_REFUSED = "person_merge_refused";

  public static final String WARNING_PROPERTIES_CAPPED = "person_properties_capped";

  public static final String MINUTE = "minute";
  public static final String HOUR = "hour";

  public Table table;
  public String project;

  /** minute or hour (event_counts); hour (breakdown_counts); null (ledger). */
  public String grain;

  /** Window start (aggregates) or hour start (ledger; {@link LedgerEntry#NO_HOUR} for none). */
  public long windowStart;

  public String event;
  public String property;
  public String value;
  public long events;
  public long persons;

  public long consumed;
  public long aggregated;
  public long duplicates;
  public long tooLate;
  public long deadLettered;

  /** SOURCE_OFFSETS: the first offset read and one past the last (consumed = records read). */
  public long firstOffset;

  public long nextOffset;

  /** SOURCE_OFFSETS: the newest valid event time read from the partition (Long.MIN_VALUE: none). */
  public long maxEventMillis = Long.MIN_VALUE;

  public long revision;

  public TallyRow() {}

  public static TallyRow dailyActive(String project, long dayStart) {
    TallyRow r = new TallyRow();
    r.table = Table.DAILY_ACTIVE;
    r.project = project;
    r.grain = "day";
    r.windowStart = dayStart;
    r.event = "";
    return r;
  }

  /**
   * One occurrence of a warning of {@code kind} for an event of {@code project} at {@code millis}.
   */
  public static TallyRow warning(String project, long eventMillis, String kind) {
    TallyRow r = new TallyRow();
    r.table = Table.WARNINGS;
    r.project = project;
    r.grain = HOUR;
    r.windowStart = Times.hourStart(eventMillis);
    r.event = kind;
    r.events = 1;
    return r;
  }

  public static TallyRow sourceOffsets(String topic, int partition) {
    TallyRow r = new TallyRow();
    r.table = Table.SOURCE_OFFSETS;
    r.project = topic;
    r.windowStart = partition;
    return r;
  }

  public static TallyRow eventCount(String project, String grain, long windowStart, String event) {
    TallyRow r = new TallyRow();
    r.table = Table.EVENT_COUNTS;
    r.project = project;
    r.grain = grain;
    r.windowStart = windowStart;
    r.event = event;
    return r;
  }

  public static TallyRow breakdown(
      String project, long windowStart, String event, String property, String value) {
    TallyRow r = new TallyRow();
    r.table = Table.BREAKDOWN_COUNTS;
    r.project = project;
    r.grain = HOUR;
    r.windowStart = windowStart;
    r.event = event;
    r.property = property;
    r.value = value;
    return r;
  }

  public static TallyRow ledger(String project, long hourStart) {
    TallyRow r = new TallyRow();
    r.table = Table.LEDGER;
    r.project = project;
    r.windowStart = hourStart;
    return r;
  }

  /** The identity of the row (everything but values and revision). */
  public String key() {
    StringBuilder sb = new StringBuilder(64);
    sb.append(table.ordinal())
        .append('\u0000')
        .append(project)
        .append('\u0000')
        .append(windowStart);
    if (table != Table.LEDGER && table != Table.SOURCE_OFFSETS) {
      sb.append('\u0000').append(grain).append('\u0000').append(event);
    }
    if (table == Table.BREAKDOWN_COUNTS) {
      sb.append('\u0000').append(property).append('\u0000').append(value);
    }
    return sb.toString();
  }

  /** End of the window in epoch millis (aggregates only). */
  public long windowEnd() {
    return windowStart
        + switch (grain) {
          case MINUTE -> Times.MINUTE_MS;
          case HOUR -> Times.HOUR_MS;
          default -> Times.DAY_MS;
        };
  }

  public TallyRow copy() {
    TallyRow r = new TallyRow();
    r.table = table;
    r.project = project;
    r.grain = grain;
    r.windowStart = windowStart;
    r.event = event;
    r.property = property;
    r.value = value;
    r.events = events;
    r.persons = persons;
    r.consumed = consumed;
    r.aggregated = aggregated;
    r.duplicates = duplicates;
    r.tooLate = tooLate;
    r.deadLettered = deadLettered;
    r.firstOffset = firstOffset;
    r.nextOffset = nextOffset;
    r.maxEventMillis = maxEventMillis;
    r.revision = revision;
    return r;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TallyRow r
        && key().equals(r.key())
        && events == r.events
        && persons == r.persons
        && consumed == r.consumed
        && aggregated == r.aggregated
        && duplicates == r.duplicates
        && tooLate == r.tooLate
        && deadLettered == r.deadLettered
        && firstOffset == r.firstOffset
        && nextOffset == r.nextOffset
        && revision == r.revision;
  }

  @Override
  public int hashCode() {
    return Objects.hash(key(), revision);
  }

  @Override
  public String toString() {
    return table == Table.LEDGER
        ? String.format(
            "ledger{%s %s consumed=%d agg=%d dup=%d late=%d dead=%d rev=%d}",
            project,
            Times.formatHour(windowStart),
            consumed,
            aggregated,
            duplicates,
            tooLate,
            deadLettered,
            revision)
        : String.format(
            "%s{%s %s %s %s %s=%s events=%d persons=%d rev=%d}",
            table,
            project,
            grain,
            Times.format(windowStart),
            event,
            property,
            value,
            events,
            persons,
            revision);
  }
}
