package dev.tally.operators.persons.merge;

import dev.tally.avro.PersonState;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.MapStore;
import dev.tally.operators.persons.PersonIds;
import dev.tally.operators.persons.PersonModel;
import dev.tally.operators.persons.merge.MergeMessage.AttemptId;
import dev.tally.operators.persons.merge.MergeMessage.Decision;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PERSONS(x): one node of the persons' union-find (docs/scale-out.md §14). It is unborn, the alive
 * person x, or a tomb pointing at the person x was merged into. It applies its persons' events,
 * coordinates the link events that reach it, and lends its lock to other nodes' link events. Every
 * person rule is {@link PersonModel#apply}: this class only decides where state lives and when.
 */
public final class PersonNode {
  public enum Kind {
    UNBORN,
    ALIVE,
    TOMB
  }

  private final String project;
  private final String id;
  private final int maxProperties;
  private final int maxBytes;

  Kind kind = Kind.UNBORN;
  PersonState person;
  String target;

  /** The attempt holding this node's lock, and whether it is another node's (then: frozen). */
  AttemptId holder;

  boolean holderRemote;
  final ArrayDeque<LockRequest> queue = new ArrayDeque<>();

  /** Link events coordinated here, in the order they started. */
  final Map<AttemptId, Attempt> attempts = new LinkedHashMap<>();

  long attemptsStarted;

  /** Events not yet applied, in arrival order; an in-progress link event stays at its place. */
  final ParkedEvents parked = new ParkedEvents();

  private boolean draining;
  private boolean drainAgain;

  /** Events this node bounced, by uuid, with their timestamps, until acknowledged. */
  final Map<String, Long> held = new java.util.TreeMap<>();

  private final java.util.TreeMap<Long, Integer> heldTimes = new java.util.TreeMap<>();

  record LockRequest(AttemptId attempt, boolean remote) {}

  static final class Parked {
    final MergeMessage.Routed routed;
    AttemptId attempt;

    Parked(MergeMessage.Routed routed, AttemptId attempt) {
      this.routed = routed;
      this.attempt = attempt;
    }
  }

  static final class Attempt {
    final AttemptId id;
    final MergeMessage.Routed link;
    final String a;

    /** A's root when it is another node; {@code same}: A's root is this node. */
    String remote;

    boolean same;

    /** U's home is unborn: the fast path of {@link MergeMessage.Join} is being tried. */
    boolean joining;

    boolean ownLock;
    boolean remoteLocked;
    PersonState remoteState;

    Attempt(AttemptId id, MergeMessage.Routed link, String a) {
      this.id = id;
      this.link = link;
      this.a = a;
    }

    Attempt copy() {
      Attempt c = new Attempt(id, link, a);
      c.remote = remote;
      c.same = same;
      c.joining = joining;
      c.ownLock = ownLock;
      c.remoteLocked = remoteLocked;
      c.remoteState = copyOf(remoteState);
      return c;
    }
  }

  public PersonNode(String project, String id) {
    this(project, id, PersonModel.UNLIMITED, PersonModel.UNLIMITED);
  }

  public PersonNode(String project, String id, int maxProperties, int maxBytes) {
    this.project = project;
    this.id = id;
    this.maxProperties = maxProperties;
    this.maxBytes = maxBytes;
  }

  public PersonNode copy() {
    PersonNode c = new PersonNode(project, id, maxProperties, maxBytes);
    c.kind = kind;
    c.person = copyOf(person);
    c.target = target;
    c.holder = holder;
    c.holderRemote = holderRemote;
    c.queue.addAll(queue);
    attempts.forEach((k, v) -> c.attempts.put(k, v.copy()));
    c.attemptsStarted = attemptsStarted;
    parked.forEach(p -> c.parked.add(new Parked(p.routed, p.attempt)));
    held.forEach(c::hold);
    return c;
  }

  public Kind kind() {
    return kind;
  }

  /** The person, when alive (a copy). */
  public PersonState person() {
    return copyOf(person);
  }

  public String target() {
    return target;
  }

  /** Whether anything waits here: parked events, a lock, queued requests, attempts. */
  public boolean busy() {
    return !parked.isEmpty()
        || holder != null
        || !queue.isEmpty()
        || !attempts.isEmpty()
        || !held.isEmpty();
  }

  private boolean frozen() {
    return holder != null && holderRemote;
  }

  /** Delivers any message addressed to a person node. */
  public void on(MergeMessage m, MergeEffects out) throws Exception {
    if (m instanceof MergeMessage.Routed r) {
      onRouted(r, out);
    } else if (m instanceof MergeMessage.Flush f) {
      onFlush(f, out);
    } else if (m instanceof MergeMessage.Find f) {
      onFind(f, out);
    } else if (m instanceof MergeMessage.Found f) {
      onFound(f, out);
    } else if (m instanceof MergeMessage.Lock l) {
      onLock(l, out);
    } else if (m instanceof MergeMessage.Locked l) {
      onLocked(l, out);
    } else if (m instanceof MergeMessage.Moved mv) {
      onMoved(mv, out);
    } else if (m instanceof Decision d) {
      onDecision(d, out);
    } else if (m instanceof MergeMessage.Join j) {
      onJoin(j, out);
    } else if (m instanceof MergeMessage.Joined j) {
      onJoined(j, out);
    } else if (m instanceof MergeMessage.Declined d) {
      onDeclined(d, out);
    } else if (m instanceof MergeMessage.Release r) {
      onRelease(r, out);
    } else if (m instanceof MergeMessage.Ack a) {
      unhold(a.uuid());
    } else {
      throw new IllegalArgumentException("not a message for a person: " + m);
    }
  }

  // ---- events (data channel) ----

  public void onRouted(MergeMessage.Routed r, MergeEffects out) throws Exception {
    if (kind == Kind.TOMB) {
      bounce(r, out);
      return;
    }
    parked.add(new Parked(r, null));
    drain(out);
  }

  /**
   * A re-routed event has left this node (applied, dead-lettered or bounced on): its last bouncer
   * may stop holding it. Not on arrival: this node's own watermark may have passed it already, so
   * only the bouncer's hold keeps downstream from passing it while it is parked here.
   */
  private static void released(MergeMessage.Routed r, MergeEffects out) {
    if (r.heldBy() != null) {
      out.loopToPerson(r.heldBy(), new MergeMessage.Ack(r.event().uuid));
    }
  }

  /** Only a tomb is flushed (LINKS learnt it is one from its bounce; tombs stay tombs). */
  public void onFlush(MergeMessage.Flush f, MergeEffects out) {
    if (kind != Kind.TOMB) {
      throw new IllegalStateException(
          "a flush of " + f.distinctId() + " reached " + kind + " " + id);
    }
    out.loopToLinks(f.distinctId(), new MergeMessage.Bounce(null, f.distinctId(), target, id));
  }

  /**
   * Applies or starts, each id in its order, every parked event that nothing holds back: an id
   * waits behind its own link event in progress; everything waits while the node is frozen.
   */
  private void drain(MergeEffects out) throws Exception {
    if (draining) {
      drainAgain = true; // the running loop below makes another pass
      return;
    }
    draining = true;
    try {
      do {
        drainAgain = false;
        for (String d : parked.ids()) {
          Parked next;
          while (kind != Kind.TOMB
              && !frozen()
              && (next = parked.head(d)) != null
              && next.attempt == null) {
            Map<String, Object> props;
            String a;
            try {
              props = Json.parseTrustedObject(next.routed.event().propertiesJson);
              a = PersonModel.linkTarget(next.routed.event(), props);
            } catch (RuntimeException e) {
              parked.removeHead(d, next);
              out.failed(next.routed.event(), e);
              released(next.routed, out);
              continue;
            }
            if (a == null) {
              parked.removeHead(d, next);
              applyOrdinary(next.routed, props, out);
            } else {
              startAttempt(next, a, out);
            }
          }
        }
      } while (drainAgain && kind != Kind.TOMB && !frozen());
    } finally {
      draining = false;
    }
  }

  private void applyOrdinary(MergeMessage.Routed r, Map<String, Object> props, MergeEffects out)
      throws Exception {
    MapStore store = new MapStore();
    if (kind == Kind.ALIVE) {
      store.with(person);
    }
    store.links().put(r.event().distinctId, kind == Kind.ALIVE ? id : null);
    PersonModel.Outcome o;
    try {
      o = PersonModel.apply(store, r.event(), props, maxProperties, maxBytes);
    } catch (RuntimeException e) {
      out.failed(r.event(), e); // a poison event is dead-lettered; the person stays as it was
      released(r, out);
      return;
    }
    if (!o.person().getPersonId().equals(id)) {
      throw new IllegalStateException(
          "an event of "
              + r.event().distinctId
              + " reached person "
              + id
              + " but made "
              + o.person().getPersonId());
    }
    kind = Kind.ALIVE;
    person = copyOf(o.person());
    out.enriched(r.event(), copyOf(o.person()), o);
    released(r, out);
  }

  // ---- link events: this node coordinates ----

  private void startAttempt(Parked p, String a, MergeEffects out) throws Exception {
    AttemptId x = new AttemptId(id, ++attemptsStarted);
    p.attempt = x;
    Attempt at = new Attempt(x, p.routed, a);
    attempts.put(x, at);
    if (kind == Kind.ALIVE && person.getDistinctIds().contains(a)) {
      // A is one of this person's ids, so its root is this node (an id leaves a person only when
      // the whole person becomes a tomb): nothing to find, no loop hop
      at.same = true;
      requestOwnLock(at, out);
      return;
    }
    if (kind == Kind.UNBORN) {
      // U is unknown: hold U's home and send the link event itself to A's root (Join)
      at.joining = true;
      requestOwnLock(at, out);
      return;
    }
    out.loopToPerson(PersonIds.personId(project, a), new MergeMessage.Find(x));
  }

  /** At any node on the way from h(A) to A's root. */
  public void onJoin(MergeMessage.Join j, MergeEffects out) throws Exception {
    if (kind == Kind.TOMB) {
      out.loopToPerson(target, j);
      return;
    }
    AttemptId x = j.attempt();
    if (kind != Kind.ALIVE || holder != null) {
      out.loopToPerson(x.coordinator(), new MergeMessage.Declined(x, id));
      return;
    }
    ValidEvent e = j.link().event();
    MapStore store = new MapStore();
    store.with(person);
    store.links().put(e.distinctId, null);
    PersonModel.Outcome o;
    try {
      Map<String, Object> props = Json.parseTrustedObject(e.propertiesJson);
      store.links().put(PersonModel.linkTarget(e, props), id); // this node is A's root
      o = PersonModel.apply(store, e, props, maxProperties, maxBytes);
    } catch (RuntimeException ex) {
      out.failed(e, ex); // dead-lettered; U stays unknown, its home is released by Joined
      out.loopToPerson(x.coordinator(), new MergeMessage.Joined(x, null));
      return;
    }
    if (!o.person().getPersonId().equals(id)) {
      throw new IllegalStateException("a join of " + e.distinctId + " at " + id + " made " + o);
    }
    person = copyOf(o.person());
    out.enriched(e, copyOf(o.person()), o);
    out.loopToPerson(x.coordinator(), new MergeMessage.Joined(x, id));
  }

  /** At U's home: U's person is A's now (or the link event was dead-lettered: root null). */
  public void onJoined(MergeMessage.Joined j, MergeEffects out) throws Exception {
    Attempt at = attempts.get(j.attempt());
    if (at == null) {
      throw new IllegalStateException("joined " + j.attempt() + " unknown at " + id);
    }
    released(at.link, out);
    finish(at, j.root(), out);
  }

  /** A's root could not take the link event: the ordered locks, from A's root. */
  public void onDeclined(MergeMessage.Declined d, MergeEffects out) throws Exception {
    Attempt at = attempts.get(d.attempt());
    if (at == null) {
      throw new IllegalStateException("declined " + d.attempt() + " unknown at " + id);
    }
    at.joining = false;
    at.ownLock = false;
    holder = null;
    out.loopToPerson(d.root(), new MergeMessage.Find(at.id));
    drain(out);
    tryGrant(out);
  }

  public void onFind(MergeMessage.Find f, MergeEffects out) throws Exception {
    AttemptId x = f.attempt();
    if (kind == Kind.TOMB) {
      out.loopToPerson(target, f);
    } else if (x.coordinator().equals(id)) {
      Attempt at = attempts.get(x);
      if (at != null) {
        at.same = true;
        requestOwnLock(at, out);
      }
    } else if (id.compareTo(x.coordinator()) < 0) {
      queue.add(new LockRequest(x, true)); // lower id: lock here first
      tryGrant(out);
    } else {
      out.loopToPerson(x.coordinator(), new MergeMessage.Found(x, id));
    }
  }

  public void onFound(MergeMessage.Found f, MergeEffects out) throws Exception {
    Attempt at = attempts.get(f.attempt());
    if (at == null) {
      return; // the attempt died with this node's person
    }
    at.remote = f.root();
    requestOwnLock(at, out);
  }

  public void onLocked(MergeMessage.Locked l, MergeEffects out) throws Exception {
    Attempt at = attempts.get(l.attempt());
    if (at == null) {
      out.loopToPerson(l.root(), new MergeMessage.Release(l.attempt()));
      return;
    }
    at.remote = l.root();
    at.remoteLocked = true;
    at.remoteState = copyOf(l.person());
    if (at.ownLock) {
      decide(at, out);
    } else {
      requestOwnLock(at, out);
    }
  }

  public void onMoved(MergeMessage.Moved m, MergeEffects out) throws Exception {
    Attempt at = attempts.get(m.attempt());
    if (at == null) {
      return;
    }
    if (at.ownLock) {
      at.ownLock = false;
      holder = null;
    }
    at.remote = null;
    out.loopToPerson(m.target(), new MergeMessage.Find(at.id));
    drain(out);
    tryGrant(out);
  }

  private void requestOwnLock(Attempt at, MergeEffects out) throws Exception {
    queue.add(new LockRequest(at.id, false));
    tryGrant(out);
  }

  private void ownLockGranted(Attempt at, MergeEffects out) throws Exception {
    if (at.joining) {
      out.loopToPerson(PersonIds.personId(project, at.a), new MergeMessage.Join(at.id, at.link));
    } else if (at.same || at.remoteLocked) {
      decide(at, out);
    } else {
      out.loopToPerson(at.remote, new MergeMessage.Lock(at.id));
    }
  }

  /** Both locks held (or A is already here): the link event's rule, then who becomes what. */
  private void decide(Attempt at, MergeEffects out) throws Exception {
    MergeMessage.Routed r = at.link;
    String u = r.event().distinctId;
    MapStore store = new MapStore();
    boolean uAlive = kind == Kind.ALIVE;
    boolean aAlive = at.same || at.remoteState != null;
    if (uAlive) {
      store.with(person);
    }
    if (!at.same && at.remoteState != null) {
      store.with(at.remoteState);
    }
    store.links().put(u, uAlive ? id : null);
    store.links().put(at.a, at.same ? id : (aAlive ? at.remote : null));
    PersonModel.Outcome o;
    try {
      Map<String, Object> props = Json.parseTrustedObject(r.event().propertiesJson);
      o = PersonModel.apply(store, r.event(), props, maxProperties, maxBytes);
    } catch (RuntimeException e) {
      // a poison link event: dead-lettered, nothing linked, both locks released
      out.failed(r.event(), e);
      released(r, out);
      if (!at.same) {
        decision(at, Decision.Outcome.RELEASE, null, null, out);
      }
      finish(at, null, out);
      return;
    }
    PersonState result = o.person();
    String becomeTombOf = null;
    if (at.same) {
      person = copyOf(result);
    } else if (!uAlive && !aAlive) {
      kind = Kind.ALIVE;
      person = copyOf(result);
      decision(at, Decision.Outcome.TOMB, id, null, out);
    } else if (!uAlive) {
      becomeTombOf = at.remote; // U joined A's person, which lives there
      decision(at, Decision.Outcome.REPLACE, null, result, out);
    } else if (!aAlive || o.mergedAway() != null) {
      person = copyOf(result);
      decision(at, Decision.Outcome.TOMB, id, null, out);
    } else {
      person = copyOf(result); // refused: U's person may still be marked identified
      decision(at, Decision.Outcome.RELEASE, null, null, out);
    }
    if (!result.getPersonId().equals(becomeTombOf != null ? at.remote : id)) {
      throw new IllegalStateException("link event of " + u + " made person " + result);
    }
    out.enriched(r.event(), copyOf(result), o);
    released(r, out);
    finish(at, becomeTombOf, out);
  }

  /** The attempt is over: its link event leaves the parked list, the own lock is released. */
  private void finish(Attempt at, String becomeTombOf, MergeEffects out) throws Exception {
    attempts.remove(at.id);
    parked.removeAttempt(at.id, at.link.event().distinctId);
    holder = null;
    if (becomeTombOf != null) {
      becomeTomb(becomeTombOf, out);
    } else {
      drain(out);
      tryGrant(out);
    }
  }

  private void decision(
      Attempt at, Decision.Outcome o, String tombOf, PersonState state, MergeEffects out) {
    out.loopToPerson(at.remote, new Decision(at.id, o, tombOf, copyOf(state)));
  }

  // ---- this node's lock, lent to other nodes' link events ----

  public void onLock(MergeMessage.Lock l, MergeEffects out) throws Exception {
    if (kind == Kind.TOMB) {
      out.loopToPerson(l.attempt().coordinator(), new MergeMessage.Moved(l.attempt(), target));
      return;
    }
    queue.add(new LockRequest(l.attempt(), true));
    tryGrant(out);
  }

  public void onDecision(Decision d, MergeEffects out) throws Exception {
    if (!d.attempt().equals(holder) || !holderRemote) {
      throw new IllegalStateException(
          "decision of " + d.attempt() + " at " + id + " locked by " + holder);
    }
    holder = null;
    switch (d.outcome()) {
      case TOMB -> becomeTomb(d.target(), out);
      case REPLACE -> {
        person = copyOf(d.person());
        kind = Kind.ALIVE;
        drain(out);
        tryGrant(out);
      }
      case RELEASE -> {
        drain(out);
        tryGrant(out);
      }
    }
  }

  public void onRelease(MergeMessage.Release r, MergeEffects out) throws Exception {
    if (r.attempt().equals(holder)) {
      holder = null;
      drain(out);
      tryGrant(out);
    } else {
      queue.removeIf(q -> q.attempt().equals(r.attempt()));
    }
  }

  private void tryGrant(MergeEffects out) throws Exception {
    while (holder == null && kind != Kind.TOMB && !queue.isEmpty()) {
      LockRequest q = queue.poll();
      holder = q.attempt();
      holderRemote = q.remote();
      if (q.remote()) {
        out.loopToPerson(
            q.attempt().coordinator(),
            new MergeMessage.Locked(q.attempt(), id, kind == Kind.ALIVE ? copyOf(person) : null));
      } else {
        Attempt at = attempts.get(q.attempt());
        if (at == null) {
          holder = null; // died while it waited
          continue;
        }
        at.ownLock = true;
        ownLockGranted(at, out);
      }
    }
  }

  /**
   * This node's person now lives at {@code t}: its waiting events go back to their LINKS, its lock
   * requests are told where to go, its own unfinished link events die (they are among the bounced
   * events and start again at the new root).
   */
  private void becomeTomb(String t, MergeEffects out) {
    kind = Kind.TOMB;
    target = t;
    person = null;
    for (Attempt at : attempts.values()) {
      if (at.remoteLocked) {
        out.loopToPerson(at.remote, new MergeMessage.Release(at.id));
      }
    }
    attempts.clear();
    for (LockRequest q : queue) {
      if (q.remote()) {
        out.loopToPerson(q.attempt().coordinator(), new MergeMessage.Moved(q.attempt(), t));
      }
    }
    queue.clear();
    for (Parked p : parked) {
      bounce(p.routed, out);
    }
    parked.clear();
  }

  /**
   * Hands an event back to its LINKS through the loop. Nobody else holds it while it travels, so
   * this node holds its timestamp back until the next person acknowledges it (freshness, §14).
   */
  private void bounce(MergeMessage.Routed r, MergeEffects out) {
    String d = r.event().distinctId;
    hold(r.event().uuid, r.event().timestampMillis);
    out.loopToLinks(d, new MergeMessage.Bounce(r, d, target, id));
    released(r, out); // held here now
  }

  /** The oldest event timestamp held here (Long.MAX_VALUE: none): parked or bounced events. */
  public long oldestHold() {
    return Math.min(parked.oldest(), heldTimes.isEmpty() ? Long.MAX_VALUE : heldTimes.firstKey());
  }

  /** Holds a bounced event's timestamp until its next node acknowledges it. */
  void hold(String uuid, long timestamp) {
    if (held.put(uuid, timestamp) == null) {
      heldTimes.merge(timestamp, 1, Integer::sum);
    }
  }

  private void unhold(String uuid) {
    Long t = held.remove(uuid);
    if (t != null) {
      heldTimes.computeIfPresent(t, (k, n) -> n == 1 ? null : n - 1);
    }
  }

  public String fingerprint() {
    StringBuilder sb = new StringBuilder();
    sb.append(kind).append('|').append(person).append('|').append(target).append('|');
    sb.append(holder).append(holderRemote).append('|').append(queue).append('|');
    sb.append(attemptsStarted).append('|').append(held).append('|');
    for (Attempt at : attempts.values()) {
      sb.append(at.id).append(':').append(at.link.event().uuid).append(at.a).append(at.remote);
      sb.append(at.same).append(at.joining).append(at.ownLock);
      sb.append(at.remoteLocked).append(at.remoteState).append(',');
    }
    sb.append('|');
    for (Parked p : parked) {
      sb.append(p.routed.event().uuid).append('<').append(p.routed.heldBy()).append(p.attempt);
      sb.append(',');
    }
    return sb.toString();
  }

  static PersonState copyOf(PersonState p) {
    return MapStore.copy(p);
  }
}
