package dev.tally.sinks.postgres;

/**
 * Deletes of superseded row versions. They only see committed rows and only delete versions that a
 * committed newer revision replaces, so they never touch a row a prepared transaction holds, and
 * none while the generation has a compaction hold.
 */
final class Compaction {
  /**
   * A hold (a blue/green upgrade copying the rows as of a savepoint) pauses compaction. Checked in
   * the statement itself, so a delete whose snapshot could see newer commits also sees the hold.
   */
  private static final String NOT_HELD =
      " AND NOT EXISTS (SELECT 1 FROM tally.compaction_holds h WHERE h.generation = e.generation)";

  static final String EVENT_COUNTS =
      "DELETE FROM tally.event_counts e USING tally.event_counts n"
          + " WHERE e.generation = ? AND n.generation = e.generation AND n.project = e.project"
          + " AND n.grain = e.grain AND n.window_start = e.window_start AND n.event = e.event"
          + " AND n.revision > e.revision"
          + NOT_HELD;
  static final String BREAKDOWN_COUNTS =
      "DELETE FROM tally.breakdown_counts e USING tally.breakdown_counts n"
          + " WHERE e.generation = ? AND n.generation = e.generation AND n.project = e.project"
          + " AND n.window_start = e.window_start AND n.event = e.event"
          + " AND n.property = e.property AND n.value_sha256 = e.value_sha256"
          + " AND n.revision > e.revision"
          + NOT_HELD;
  static final String LEDGER =
      "DELETE FROM tally.ledger e USING tally.ledger n"
          + " WHERE e.generation = ? AND n.generation = e.generation AND n.project = e.project"
          + " AND n.hour IS NOT DISTINCT FROM e.hour AND n.revision > e.revision"
          + NOT_HELD;

  static final String SOURCE_OFFSETS =
      "DELETE FROM tally.source_offsets e USING tally.source_offsets n"
          + " WHERE e.generation = ? AND n.generation = e.generation AND n.topic = e.topic"
          + " AND n.partition = e.partition AND n.revision > e.revision"
          + NOT_HELD;

  static final String DAILY_ACTIVE =
      "DELETE FROM tally.daily_active e USING tally.daily_active n"
          + " WHERE e.generation = ? AND n.generation = e.generation AND n.project = e.project"
          + " AND n.day = e.day AND n.revision > e.revision"
          + NOT_HELD;

  static final String WARNINGS =
      "DELETE FROM tally.ingestion_warnings e USING tally.ingestion_warnings n"
          + " WHERE e.generation = ? AND n.generation = e.generation AND n.project = e.project"
          + " AND n.hour = e.hour AND n.kind = e.kind AND n.revision > e.revision"
          + NOT_HELD;

  /** Keeps the last hour of commit rows and the newest of every subtask. */
  static final String SINK_COMMITS =
      "DELETE FROM tally.sink_commits c WHERE c.generation = ?"
          + " AND c.prepared_at < now() - interval '1 hour'"
          + " AND EXISTS (SELECT 1 FROM tally.sink_commits n WHERE n.generation = c.generation"
          + " AND n.sink_id = c.sink_id AND n.subtask = c.subtask AND n.checkpoint > c.checkpoint)";

  /** Every compaction statement; each takes the generation as its only parameter. */
  static final java.util.List<String> ALL =
      java.util.List.of(
          EVENT_COUNTS,
          BREAKDOWN_COUNTS,
          LEDGER,
          SOURCE_OFFSETS,
          DAILY_ACTIVE,
          WARNINGS,
          SINK_COMMITS);

  private Compaction() {}
}
