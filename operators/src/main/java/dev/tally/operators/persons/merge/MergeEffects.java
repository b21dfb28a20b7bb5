package dev.tally.operators.persons.merge;

import dev.tally.avro.PersonState;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;

/** Where a node's handlers send what they produce; one per delivery, bound to the sender. */
public interface MergeEffects {
  /** LINKS → PERSONS on the data channel (FIFO per pair of keys). */
  void toPerson(String personId, MergeMessage m);

  /** PERSONS → PERSONS through the loop (FIFO per pair of keys). */
  void loopToPerson(String personId, MergeMessage m);

  /** PERSONS → LINKS through the loop (FIFO per pair of keys). */
  void loopToLinks(String distinctId, MergeMessage m);

  /**
   * An event applied to its person: the enriched event's person after it, and what the rules did (a
   * refused merge, capped properties: warnings).
   */
  void enriched(ValidEvent event, PersonState person, PersonModel.Outcome outcome);

  /** The rules failed on this event (a poison event): it is dead-lettered, nothing changed. */
  void failed(ValidEvent event, RuntimeException cause);
}
