package dev.tally.operators.model;

import java.util.Locale;

/**
 * An event with the position it was read at, or a progress marker: what flows from route through
 * dedup to the stage that restores each split's order (docs/scale-out.md §3a). Flink POJO.
 *
 * <p>A marker says "everything of {@code split} up to {@code offset} has been sent on this
 * channel". From route it carries the dedup subtask it is addressed to ({@code target}) and the key
 * that sends it there; from dedup it carries the sender ({@code from} of {@code of} subtasks).
 */
public class Sequenced {
  /** The event; null for a marker. */
  public ValidEvent event;

  /** Where it was read: topic and partition, or a route subtask for sources without positions. */
  public String split;

  public long offset;

  /** Markers from route: the key that reaches {@code target}'s key groups. */
  public String markerKey;

  public int target = -1;

  /** Markers from dedup: the sending subtask and its operator's parallelism. */
  public int from = -1;

  public int of;

  public Sequenced() {}

  public static Sequenced event(ValidEvent event, String split, long offset) {
    Sequenced s = new Sequenced();
    s.event = event;
    s.split = split;
    s.offset = offset;
    return s;
  }

  /** A marker from route to dedup subtask {@code target}, under {@code key}. */
  public static Sequenced toDedup(String split, long offset, int target, String key) {
    Sequenced s = new Sequenced();
    s.split = split;
    s.offset = offset;
    s.target = target;
    s.markerKey = key;
    return s;
  }

  /** A marker from dedup subtask {@code from} (of {@code of}) to the split's order stage. */
  public static Sequenced fromDedup(String split, long offset, int from, int of) {
    Sequenced s = new Sequenced();
    s.split = split;
    s.offset = offset;
    s.from = from;
    s.of = of;
    return s;
  }

  public boolean isMarker() {
    return event == null;
  }

  /**
   * The dedup key, (project, lower-cased uuid): a project never contains ':' and a uuid is always
   * 36 characters, so the pair is unambiguous. Markers route by their own key.
   */
  public String dedupKey() {
    return event == null ? markerKey : event.project + ':' + event.uuid.toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return event == null
        ? "Progress{"
            + split
            + "@"
            + offset
            + (from >= 0 ? " from " + from + "/" + of : " to " + target)
            + "}"
        : "Sequenced{" + split + "@" + offset + " " + event + "}";
  }
}
