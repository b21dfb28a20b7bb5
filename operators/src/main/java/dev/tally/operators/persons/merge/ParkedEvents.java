package dev.tally.operators.persons.merge;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The events waiting at one PERSONS node, a queue per distinct_id: only each id's own order matters
 * (any interleaving of the ids' orders is a serialization, §14), so draining is linear in what it
 * releases, and the oldest timestamp (the node's hold) is kept in a counted tree instead of a scan
 * — a hot person frozen by a merge can park thousands of events.
 */
final class ParkedEvents implements Iterable<PersonNode.Parked> {
  private final Map<String, ArrayDeque<PersonNode.Parked>> byId = new LinkedHashMap<>();
  private final TreeMap<Long, Integer> timestamps = new TreeMap<>();
  private int size;

  void add(PersonNode.Parked p) {
    byId.computeIfAbsent(p.routed.event().distinctId, d -> new ArrayDeque<>()).addLast(p);
    timestamps.merge(p.routed.event().timestampMillis, 1, Integer::sum);
    size++;
  }

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  /** The ids with waiting events, in the order they first waited (a copy: draining changes it). */
  java.util.List<String> ids() {
    return new java.util.ArrayList<>(byId.keySet());
  }

  PersonNode.Parked head(String distinctId) {
    ArrayDeque<PersonNode.Parked> q = byId.get(distinctId);
    return q == null ? null : q.peekFirst();
  }

  /** Removes the head of the id's queue (it must be {@code p}). */
  void removeHead(String distinctId, PersonNode.Parked p) {
    ArrayDeque<PersonNode.Parked> q = byId.get(distinctId);
    if (q == null || q.peekFirst() != p) {
      throw new IllegalStateException("not the head of " + distinctId + "'s parked events");
    }
    q.pollFirst();
    if (q.isEmpty()) {
      byId.remove(distinctId);
    }
    forget(p);
  }

  /** Removes the in-progress link event of {@code attempt} (the head of its id's queue). */
  void removeAttempt(MergeMessage.AttemptId attempt, String distinctId) {
    PersonNode.Parked head = head(distinctId);
    if (head != null && attempt.equals(head.attempt)) {
      removeHead(distinctId, head);
    }
  }

  private void forget(PersonNode.Parked p) {
    timestamps.computeIfPresent(p.routed.event().timestampMillis, (t, n) -> n == 1 ? null : n - 1);
    size--;
  }

  long oldest() {
    return timestamps.isEmpty() ? Long.MAX_VALUE : timestamps.firstKey();
  }

  void clear() {
    byId.clear();
    timestamps.clear();
    size = 0;
  }

  @Override
  public Iterator<PersonNode.Parked> iterator() {
    return byId.values().stream().flatMap(ArrayDeque::stream).iterator();
  }

  @Override
  public void forEach(Consumer<? super PersonNode.Parked> action) {
    byId.values().forEach(q -> q.forEach(action));
  }
}
