package dev.tally.operators.persons.merge;

import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonIds;
import java.util.ArrayList;
import java.util.List;

/**
 * LINKS(d): routes one distinct_id's events, in order, to its cached root person (its home h(d)
 * until a bounce says otherwise). It decides nothing and sends nothing through the loop
 * (docs/scale-out.md §14).
 */
public final class LinkNode {
  private final String project;
  private final String distinctId;

  /** The root this id's events go to; null: its home. Only re-routed ids have any state. */
  String root;

  /** While re-routing: the new root and what came back from the old one before its flush. */
  String reroutingTo;

  final List<MergeMessage.Routed> bounced = new ArrayList<>();

  /** New events that arrived while re-routing. */
  final List<ValidEvent> parked = new ArrayList<>();

  public LinkNode(String project, String distinctId) {
    this.project = project;
    this.distinctId = distinctId;
  }

  /** A copy whose state changes do not affect this one (the model checker branches on it). */
  public LinkNode copy() {
    LinkNode c = new LinkNode(project, distinctId);
    c.root = root;
    c.reroutingTo = reroutingTo;
    c.bounced.addAll(bounced);
    c.parked.addAll(parked);
    return c;
  }

  /**
   * The oldest event timestamp held here (Long.MAX_VALUE: none): the events parked during a
   * re-route. Bounced events are held by their bouncer until the next person acknowledges them.
   */
  public long oldestHold() {
    long min = Long.MAX_VALUE;
    for (ValidEvent e : parked) {
      min = Math.min(min, e.timestampMillis);
    }
    return min;
  }

  /** Whether anything of this id waits here. */
  public boolean holdsEvents() {
    return reroutingTo != null;
  }

  /** The next event of this id, in input order. */
  public void onEvent(ValidEvent e, MergeEffects out) {
    if (reroutingTo != null) {
      parked.add(e);
    } else {
      out.toPerson(currentRoot(), new MergeMessage.Routed(e, null));
    }
  }

  /**
   * An event handed back by a tomb. The first one starts a re-route: a flush goes to the tomb
   * behind everything sent there (the data channel is FIFO, the tomb bounces all of it, in order);
   * when the flush comes back, the bounced events and the ones parked meanwhile go, in order, to
   * the tomb's target.
   */
  public void onBounce(MergeMessage.Bounce b, MergeEffects out) {
    if (reroutingTo == null) {
      if (b.routed() == null) {
        throw new IllegalStateException("a flush came back to " + distinctId + " unasked");
      }
      reroutingTo = b.target();
      out.toPerson(currentRoot(), new MergeMessage.Flush(distinctId));
    } else if (!reroutingTo.equals(b.target())) {
      throw new IllegalStateException(
          "bounces of one re-route name two targets: " + reroutingTo + ", " + b.target());
    }
    if (b.routed() != null) {
      // the bouncer holds it until the next person acknowledges it
      bounced.add(new MergeMessage.Routed(b.routed().event(), b.from()));
      return;
    }
    root = reroutingTo;
    reroutingTo = null;
    List<MergeMessage.Routed> again = new ArrayList<>(bounced);
    parked.forEach(e -> again.add(new MergeMessage.Routed(e, null)));
    bounced.clear();
    parked.clear();
    again.forEach(r -> out.toPerson(root, r));
  }

  private String currentRoot() {
    return root != null ? root : PersonIds.personId(project, distinctId);
  }

  /** Canonical text of the state (the model checker's visited set). */
  public String fingerprint() {
    StringBuilder sb = new StringBuilder();
    sb.append(root).append('|').append(reroutingTo).append('|');
    bounced.forEach(r -> sb.append(r.event().uuid).append('<').append(r.heldBy()).append(','));
    sb.append('|');
    parked.forEach(e -> sb.append(e.uuid).append(','));
    return sb.toString();
  }
}
