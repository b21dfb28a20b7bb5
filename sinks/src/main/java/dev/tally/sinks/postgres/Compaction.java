package dev.tally.sinks.postgres;

import java.util.ArrayList;
import java.util.List;

/**
 * Deletes of superseded row versions: each table's {@link TallyTable#compactionSql} and the commit
 * log's. They only see committed rows and only delete versions that a committed newer revision
 * replaces, so they never touch a row a prepared transaction holds, and none while the generation
 * has a compaction hold (checked in the statement itself, so a delete whose snapshot could see
 * newer commits also sees the hold).
 */
final class Compaction {
  /** Keeps the last hour of commit rows and the newest of every subtask. */
  static final String SINK_COMMITS =
      "DELETE FROM tally.sink_commits c WHERE c.generation = ?"
          + " AND c.prepared_at < now() - interval '1 hour'"
          + " AND EXISTS (SELECT 1 FROM tally.sink_commits n WHERE n.generation = c.generation"
          + " AND n.sink_id = c.sink_id AND n.subtask = c.subtask AND n.checkpoint > c.checkpoint)";

  /** Every compaction statement; each takes the generation as its only parameter. */
  static final List<String> ALL = all();

  private Compaction() {}

  private static List<String> all() {
    List<String> all = new ArrayList<>();
    for (TallyTable t : TallyTable.values()) {
      all.add(t.compactionSql());
    }
    all.add(SINK_COMMITS);
    return List.copyOf(all);
  }
}
