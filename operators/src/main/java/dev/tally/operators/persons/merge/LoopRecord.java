package dev.tally.operators.persons.merge;

import java.util.Arrays;

/**
 * One person-protocol message on its way to a key: on the data channel from LINKS to PERSONS, or
 * through the loop topic to either. Flink POJO; {@code message} is {@link MergeCodec}'s bytes.
 */
public class LoopRecord {
  public static final byte TO_LINKS = 0;
  public static final byte TO_PERSONS = 1;

  /** {@link #TO_LINKS} or {@link #TO_PERSONS}. */
  public byte to;

  /** {@code project + ':' + distinct_id} (LINKS) or {@code project + ':' + person id}. */
  public String key;

  public byte[] message;

  /**
   * For the loop topic's partitioner: the sender's key group and the number of key groups. A key
   * group never moves between loop partitions, so one sender's messages to one receiver stay in
   * order across a rescale, and while the partitions are a multiple of the parallelism each has a
   * single writer (no waiting behind another writer's open transaction, review finding 11).
   */
  public int fromKeyGroup;

  public int keyGroups = 1;

  /**
   * The checkpoint epoch its sender emitted it in: the id of the sender's last snapshot plus one
   * (written as the loop topic's {@code tally-epoch} header). A green generation started from a
   * savepoint {@code S} inherits exactly blue's messages stamped {@code <= S} (docs/scale-out.md
   * §14).
   */
  public long epoch;

  public LoopRecord() {}

  public LoopRecord(byte to, String key, byte[] message) {
    this.to = to;
    this.key = key;
    this.message = message;
  }

  public static String key(String project, String id) {
    return project + ':' + id;
  }

  /** The project of a key (a project never contains ':'). */
  public static String projectOf(String key) {
    return key.substring(0, key.indexOf(':'));
  }

  /** The distinct_id or person id of a key. */
  public static String idOf(String key) {
    return key.substring(key.indexOf(':') + 1);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LoopRecord r
        && to == r.to
        && key.equals(r.key)
        && Arrays.equals(message, r.message);
  }

  @Override
  public int hashCode() {
    return key.hashCode();
  }

  @Override
  public String toString() {
    return (to == TO_LINKS ? "L:" : "P:") + key + " " + MergeCodec.decodeMessage(message);
  }
}
