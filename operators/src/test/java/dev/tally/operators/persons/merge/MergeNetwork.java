package dev.tally.operators.persons.merge;

import dev.tally.avro.PersonState;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonIds;
import dev.tally.operators.persons.PersonModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An explicit-state model of the person protocol: every LINKS and PERSONS node, every FIFO channel
 * between two keys, each distinct_id's remaining input, and a shadow of the sequential model that
 * applies each event at the moment the protocol emits it. A state can be copied, so a checker can
 * try every next step from it.
 */
final class MergeNetwork {
  static final String PROJECT = "acme";

  /** A message on its way to a node ("L:" + distinct_id or "P:" + person id). */
  record Envelope(String to, MergeMessage message) {}

  /** The next thing that can happen: an input of one id, or the head of one channel delivered. */
  record Step(String inject, String channel) {
    @Override
    public String toString() {
      return inject != null ? "input " + inject : "deliver " + channel;
    }
  }

  final Map<String, LinkNode> links = new TreeMap<>();
  final Map<String, PersonNode> persons = new TreeMap<>();
  final Map<String, ArrayDeque<Envelope>> channels = new TreeMap<>();
  final Map<String, ArrayDeque<ValidEvent>> inputs = new TreeMap<>();
  final Map<String, List<String>> expectedOrder = new HashMap<>(); // per id, the input's uuids
  final Map<String, Integer> emittedPerId = new TreeMap<>();
  final List<String> emittedOrder = new ArrayList<>();

  // the shadow: PersonModel applied sequentially in the order the protocol emitted events
  final Map<String, String> shadowLinks = new TreeMap<>();
  final Map<String, PersonState> shadowPersons = new TreeMap<>();
  int shadowRefusals;
  int refusals;

  MergeNetwork(List<ValidEvent> input) {
    for (ValidEvent e : input) {
      inputs.computeIfAbsent(e.distinctId, d -> new ArrayDeque<>()).add(e);
      expectedOrder.computeIfAbsent(e.distinctId, d -> new ArrayList<>()).add(e.uuid);
    }
  }

  private MergeNetwork() {}

  MergeNetwork copy() {
    MergeNetwork c = new MergeNetwork();
    links.forEach((k, v) -> c.links.put(k, v.copy()));
    persons.forEach((k, v) -> c.persons.put(k, v.copy()));
    channels.forEach((k, v) -> c.channels.put(k, new ArrayDeque<>(v)));
    inputs.forEach((k, v) -> c.inputs.put(k, new ArrayDeque<>(v)));
    c.expectedOrder.putAll(expectedOrder);
    c.emittedPerId.putAll(emittedPerId);
    c.emittedOrder.addAll(emittedOrder);
    c.shadowLinks.putAll(shadowLinks);
    shadowPersons.forEach((k, v) -> c.shadowPersons.put(k, PersonNode.copyOf(v)));
    c.shadowRefusals = shadowRefusals;
    c.refusals = refusals;
    return c;
  }

  List<Step> enabled() {
    List<Step> steps = new ArrayList<>();
    inputs.forEach(
        (d, q) -> {
          if (!q.isEmpty()) {
            steps.add(new Step(d, null));
          }
        });
    channels.forEach(
        (k, q) -> {
          if (!q.isEmpty()) {
            steps.add(new Step(null, k));
          }
        });
    return steps;
  }

  boolean channelsEmpty() {
    return channels.values().stream().allMatch(ArrayDeque::isEmpty);
  }

  void run(Step s) throws Exception {
    if (s.inject != null) {
      ValidEvent e = inputs.get(s.inject).poll();
      link(s.inject).onEvent(e, effects("L:" + s.inject));
      return;
    }
    Envelope env = channels.get(s.channel).poll();
    String to = env.to();
    MergeEffects out = effects(to);
    MergeMessage m = env.message();
    if (to.startsWith("L:")) {
      link(to.substring(2)).onBounce((MergeMessage.Bounce) m, out);
      return;
    }
    PersonNode p = person(to.substring(2));
    p.on(m, out);
  }

  /** Runs a step, then checks that every event read and not yet applied holds freshness back. */
  void step(Step s) throws Exception {
    run(s);
    checkHolds();
    roundTripState();
  }

  /**
   * Every node's state goes through its keyed-state bytes after every step, as RocksDB would take
   * it, and must come back the same; later steps run on what came back.
   */
  private void roundTripState() {
    links.replaceAll(
        (d, n) -> {
          LinkNode back = MergeCodec.decodeLinkNode(MergeCodec.encode(n), PROJECT, d);
          if (!back.fingerprint().equals(n.fingerprint())) {
            throw new ModelViolation("LINKS state changed in its bytes: " + n.fingerprint());
          }
          return back;
        });
    persons.replaceAll(
        (id, n) -> {
          PersonNode back =
              MergeCodec.decodePersonNode(
                  MergeCodec.encode(n), PROJECT, id, PersonModel.UNLIMITED, PersonModel.UNLIMITED);
          if (!back.fingerprint().equals(n.fingerprint())) {
            throw new ModelViolation("PERSONS state changed in its bytes: " + n.fingerprint());
          }
          return back;
        });
  }

  /**
   * Freshness (§14): an event read and not yet applied is parked at a LINKS or PERSONS node, held
   * by the tomb that bounced it, or on a data channel never bounced (covered by the channel's own
   * watermark order). Anything else could be overtaken by a watermark and turn late while it waits.
   */
  void checkHolds() {
    java.util.Set<String> covered = new java.util.HashSet<>();
    links.values().forEach(l -> l.parked.forEach(e -> covered.add(e.uuid)));
    persons
        .values()
        .forEach(
            p -> {
              // parked where it arrived in its channel's watermark order; a re-routed event's
              // node may have passed it already: it counts only while its bouncer holds it
              p.parked.forEach(
                  x -> {
                    if (x.routed.heldBy() == null) {
                      covered.add(x.routed.event().uuid);
                    }
                  });
              covered.addAll(p.held.keySet());
            });
    channels
        .values()
        .forEach(
            q ->
                q.forEach(
                    env -> {
                      if (env.message() instanceof MergeMessage.Routed r && r.heldBy() == null) {
                        covered.add(r.event().uuid);
                      }
                    }));
    java.util.Set<String> waiting = new java.util.HashSet<>();
    expectedOrder.forEach(
        (d, uuids) -> {
          int read = uuids.size() - (inputs.containsKey(d) ? inputs.get(d).size() : 0);
          waiting.addAll(uuids.subList(0, read));
        });
    waiting.removeAll(emittedOrder);
    waiting.removeAll(covered);
    if (!waiting.isEmpty()) {
      throw new ModelViolation("events waiting without a hold: " + waiting);
    }
  }

  private LinkNode link(String d) {
    return links.computeIfAbsent(d, k -> new LinkNode(PROJECT, k));
  }

  private PersonNode person(String id) {
    return persons.computeIfAbsent(id, k -> new PersonNode(PROJECT, k));
  }

  private MergeEffects effects(String from) {
    return new MergeEffects() {
      @Override
      public void toPerson(String personId, MergeMessage m) {
        send(from, "P:" + personId, m);
      }

      @Override
      public void loopToPerson(String personId, MergeMessage m) {
        send(from, "P:" + personId, m);
      }

      @Override
      public void loopToLinks(String distinctId, MergeMessage m) {
        send(from, "L:" + distinctId, m);
      }

      @Override
      public void enriched(ValidEvent event, PersonState person, PersonModel.Outcome outcome) {
        checkAgainstShadow(event, person, outcome.mergeRefused());
      }

      @Override
      public void failed(ValidEvent event, RuntimeException cause) {
        throw new ModelViolation("the rules failed on " + event + ": " + cause);
      }
    };
  }

  private void send(String from, String to, MergeMessage sent) {
    // every message travels as the bytes the loop topic or the data channel would carry
    MergeMessage m = MergeCodec.decodeMessage(MergeCodec.encode(sent));
    if (!m.equals(sent)) {
      throw new ModelViolation("message changed in its bytes: " + sent + " -> " + m);
    }
    channels.computeIfAbsent(from + ">" + to, k -> new ArrayDeque<>()).add(new Envelope(to, m));
  }

  /** The event was applied now: the sequential model, applied now too, must agree. */
  private void checkAgainstShadow(ValidEvent e, PersonState person, boolean refused) {
    int n = emittedPerId.merge(e.distinctId, 1, Integer::sum);
    List<String> order = expectedOrder.get(e.distinctId);
    if (n > order.size() || !order.get(n - 1).equals(e.uuid)) {
      throw new ModelViolation(
          "event " + e.uuid + " of " + e.distinctId + " applied out of order (" + n + "th)");
    }
    emittedOrder.add(e.uuid);
    PersonModel.Outcome o;
    try {
      o = PersonModel.apply(shadowStore(), e, Json.parseTrustedObject(e.propertiesJson));
    } catch (Exception ex) {
      throw new IllegalStateException(ex);
    }
    if (refused) {
      refusals++;
    }
    if (o.mergeRefused()) {
      shadowRefusals++;
    }
    if (!o.person().equals(person) || o.mergeRefused() != refused) {
      throw new ModelViolation(
          "event "
              + e.uuid
              + " ("
              + e.event
              + " of "
              + e.distinctId
              + ") enriched with "
              + person
              + (refused ? " refused" : "")
              + "; the sequential model, in the order applied, gives "
              + o.person()
              + (o.mergeRefused() ? " refused" : ""));
    }
  }

  private PersonModel.Store shadowStore() {
    return new dev.tally.operators.persons.MapStore(shadowPersons, shadowLinks);
  }

  /** At the end: nothing waits anywhere, and the persons and each id's person are the shadow's. */
  void checkFinal() {
    if (!channelsEmpty() || inputs.values().stream().anyMatch(q -> !q.isEmpty())) {
      throw new ModelViolation("final state with messages or inputs left");
    }
    int inputCount = expectedOrder.values().stream().mapToInt(List::size).sum();
    if (emittedOrder.size() != inputCount) {
      throw new ModelViolation(
          "events lost: " + emittedOrder.size() + " of " + inputCount + " applied");
    }
    links.forEach(
        (d, l) -> {
          if (l.holdsEvents()) {
            throw new ModelViolation(
                "deadlock: LINKS(" + d + ") still re-routing " + l.fingerprint());
          }
        });
    Map<String, PersonState> alive = new TreeMap<>();
    persons.forEach(
        (id, p) -> {
          if (p.busy()) {
            throw new ModelViolation(
                "deadlock: PERSONS(" + id + ") still busy: " + p.fingerprint());
          }
          if (p.kind() == PersonNode.Kind.ALIVE) {
            alive.put(id, p.person());
          }
        });
    if (!alive.equals(shadowPersons)) {
      throw new ModelViolation("persons " + alive + " but sequentially " + shadowPersons);
    }
    shadowLinks.forEach(
        (d, p) -> {
          String root = rootOf(PersonIds.personId(PROJECT, d));
          if (!p.equals(root)) {
            throw new ModelViolation(d + " resolves to " + root + " but sequentially to " + p);
          }
        });
    if (refusals != shadowRefusals) {
      throw new ModelViolation("refusals " + refusals + " vs " + shadowRefusals);
    }
  }

  String rootOf(String id) {
    String x = id;
    for (int i = 0; i <= persons.size(); i++) {
      PersonNode p = persons.get(x);
      if (p == null || p.kind() != PersonNode.Kind.TOMB) {
        return p != null && p.kind() == PersonNode.Kind.ALIVE ? x : null;
      }
      x = p.target();
    }
    throw new ModelViolation("tombs in a cycle from " + id);
  }

  String fingerprint() {
    StringBuilder sb = new StringBuilder();
    links.forEach((k, v) -> sb.append(k).append('=').append(v.fingerprint()).append(';'));
    persons.forEach((k, v) -> sb.append(k).append('=').append(v.fingerprint()).append(';'));
    channels.forEach(
        (k, q) -> {
          if (!q.isEmpty()) {
            sb.append(k).append(':');
            q.forEach(env -> sb.append(describe(env.message())).append(','));
            sb.append(';');
          }
        });
    inputs.forEach((k, q) -> sb.append(k).append('#').append(q.size()).append(';'));
    sb.append(shadowPersons).append(shadowLinks).append(shadowRefusals).append(refusals);
    return sb.toString();
  }

  private static String describe(MergeMessage m) {
    if (m instanceof MergeMessage.Routed r) {
      return "R" + r.event().uuid + "<" + r.heldBy();
    }
    if (m instanceof MergeMessage.Bounce b) {
      return "B" + (b.routed() == null ? "flush" : b.routed().event().uuid) + b.target();
    }
    return m.toString();
  }

  /** Replaces the person ids of single letters' and short names' homes by h(name). */
  static String readable(String text) {
    String out = text;
    for (String d :
        List.of("u", "a", "b", "c", "z", "u1", "u2", "d0", "d1", "d2", "d3", "d4", "d5")) {
      out = out.replace(PersonIds.personId(PROJECT, d), "h(" + d + ")");
    }
    return out;
  }

  static final class ModelViolation extends RuntimeException {
    ModelViolation(String message) {
      super(message);
    }
  }
}
