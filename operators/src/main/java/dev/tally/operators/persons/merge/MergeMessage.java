package dev.tally.operators.persons.merge;

import dev.tally.avro.PersonState;
import dev.tally.operators.model.ValidEvent;

/**
 * The messages of the person protocol (docs/scale-out.md §14). {@link Routed} travels from LINKS to
 * PERSONS on the data channel; every other message travels through the loop topic.
 */
public sealed interface MergeMessage {

  /** Identifies one attempt of one link event: its coordinator and a counter there. */
  record AttemptId(String coordinator, long n) {
    @Override
    public String toString() {
      return coordinator + "#" + n;
    }
  }

  /**
   * An event of one distinct_id. LINKS → PERSONS (data channel). {@code heldBy}: the tomb that
   * bounced it last and holds its timestamp back until this node acknowledges it (null when it was
   * never bounced).
   */
  record Routed(ValidEvent event, String heldBy) implements MergeMessage {}

  /**
   * Sent by LINKS(d) behind everything it sent to a person that turned out to be a tomb: when the
   * tomb bounces it back, nothing of d is left there. LINKS → PERSONS (data channel).
   */
  record Flush(String distinctId) implements MergeMessage {}

  /**
   * A tomb hands an event (or a {@link Flush}: {@code routed} null) back to LINKS, naming the
   * person it was merged into.
   */
  record Bounce(Routed routed, String distinctId, String target, String from)
      implements MergeMessage {}

  /** The receiver holds the bounced event {@code uuid} now: the bouncer may stop holding it. */
  record Ack(String uuid) implements MergeMessage {}

  /** Follows tombs from h(A) to A's root, on behalf of {@code attempt}. */
  record Find(AttemptId attempt) implements MergeMessage {}

  /** A's root has a higher id than the coordinator: take your own lock first, then ask for mine. */
  record Found(AttemptId attempt, String root) implements MergeMessage {}

  /** Asks A's root (higher id than the coordinator) for its lock. */
  record Lock(AttemptId attempt) implements MergeMessage {}

  /**
   * A's root is locked (frozen) for {@code attempt}; {@code person} is its state, null if unborn.
   */
  record Locked(AttemptId attempt, String root, PersonState person) implements MergeMessage {}

  /** The node asked for a lock is a tomb now: start again from {@code target}. */
  record Moved(AttemptId attempt, String target) implements MergeMessage {}

  /** What the coordinator decided for A's root; ends its frozen lock. */
  record Decision(AttemptId attempt, Outcome outcome, String target, PersonState person)
      implements MergeMessage {
    public enum Outcome {
      /** become a tomb of {@code target} */
      TOMB,
      /** take {@code person} (U joined A's person) */
      REPLACE,
      /** nothing changes here (refused) */
      RELEASE
    }
  }

  /**
   * U is unknown (its home is unborn): the link event itself goes to A's root, which applies it
   * there at once — U joins A's person — if it is alive and its lock is free (the fast path: no
   * lock of A's person, nothing frozen).
   */
  record Join(AttemptId attempt, Routed link) implements MergeMessage {}

  /** A's root applied the link event: U's home becomes a tomb of it. */
  record Joined(AttemptId attempt, String root) implements MergeMessage {}

  /** A's root could not apply it (unborn, or its lock held): take the locks in order instead. */
  record Declined(AttemptId attempt, String root) implements MergeMessage {}

  /** The attempt died after its lock was granted: free it. */
  record Release(AttemptId attempt) implements MergeMessage {}
}
