package dev.tally.cli.traffic;

import dev.tally.sinks.postgres.CommittedRows;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the event_counts rows must be for generated traffic, computed from the generator's intent
 * (not by the job): valid first copies per (project, grain, window, event), persons = distinct
 * persons, where the two distinct_ids of a link ({@code $identify}, {@code $create_alias}) are one
 * person (a link's new id never meets a second person, so that holds in any read order), nothing
 * too late. Keys are {@code project|grain|window-start-millis|event}, values {@code
 * events/persons}.
 */
public final class ExpectedCounts {
  private ExpectedCounts() {}

  public static Map<String, String> eventCounts(List<GeneratedEvent> sent) {
    // a link's U is new and its A is never itself a new id: one step of union-find is all it takes
    Map<String, String> personOf = new HashMap<>();
    for (GeneratedEvent e : sent) {
      String a =
          e.kind() == GeneratedEvent.Kind.VALID ? TrafficGenerator.linkedDistinctId(e) : null;
      if (a != null && !a.equals(e.distinctId())) {
        personOf.put(e.project() + ":" + e.distinctId(), e.project() + ":" + a);
      }
    }
    Map<String, Set<String>> persons = new HashMap<>();
    Map<String, Integer> events = new HashMap<>();
    for (GeneratedEvent e : sent) {
      if (e.kind() != GeneratedEvent.Kind.VALID) {
        continue;
      }
      for (String grain : List.of("minute", "hour")) {
        long size = grain.equals("minute") ? 60_000 : 3_600_000;
        long start = Math.floorDiv(e.timestampMillis(), size) * size;
        String key = e.project() + "|" + grain + "|" + start + "|" + e.event();
        events.merge(key, 1, Integer::sum);
        String id = e.project() + ":" + e.distinctId();
        persons.computeIfAbsent(key, k -> new HashSet<>()).add(personOf.getOrDefault(id, id));
      }
    }
    Map<String, String> expected = new TreeMap<>();
    events.forEach((k, n) -> expected.put(k, n + "/" + persons.get(k).size()));
    return expected;
  }

  /** The committed event_counts of a generation in the same form. */
  public static Map<String, String> committed(java.sql.Connection db, String generation)
      throws java.sql.SQLException {
    Map<String, String> rows = new TreeMap<>();
    for (CommittedRows.EventCount r : CommittedRows.eventCounts(db, generation)) {
      rows.put(
          r.project() + "|" + r.grain() + "|" + r.windowStartMs() + "|" + r.event(),
          r.events() + "/" + r.persons());
    }
    return rows;
  }
}
