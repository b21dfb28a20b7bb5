package dev.tally.operators.persons.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.ValidEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The person protocol (docs/scale-out.md §14) checked in an explicit-state model: from the initial
 * state, every interleaving of inputs and message deliveries is explored (states seen before are
 * not explored again). The network checks at every emitted event that the sequential model, applied
 * at that moment, agrees (serializable in the order applied) and that each id's events are applied
 * in input order; at every final state that nothing waits anywhere and that persons and links equal
 * the sequential model's.
 */
class MergeProtocolModelTest {
  private int uuids;

  private ValidEvent ev(String distinctId, String event, String propertiesJson) {
    ValidEvent e = new ValidEvent();
    e.uuid = String.format("00000000-0000-4000-8000-%012d", ++uuids);
    e.project = MergeNetwork.PROJECT;
    e.event = event;
    e.distinctId = distinctId;
    e.timestamp = "2026-12-03T10:00:0" + (uuids % 10) + "Z";
    e.timestampMillis = 1_796_292_000_000L + (uuids % 10) * 1000L;
    e.propertiesJson = propertiesJson;
    e.propertiesPresent = true;
    return e;
  }

  private ValidEvent view(String d, String set) {
    return ev(d, "$pageview", "{\"$set\":" + set + "}");
  }

  private ValidEvent identify(String u, String a) {
    return ev(
        u, "$identify", "{\"$anon_distinct_id\":\"" + a + "\",\"$set\":{\"by\":\"" + u + "\"}}");
  }

  private ValidEvent alias(String u, String a) {
    return ev(u, "$create_alias", "{\"alias\":\"" + a + "\"}");
  }

  /** Explores every reachable state; returns how many there were. */
  static long explore(List<ValidEvent> input) throws Exception {
    Set<String> seen = new HashSet<>();
    Set<String> onPath = new HashSet<>();
    Deque<MergeNetwork.Step> path = new ArrayDeque<>();
    long[] finals = {0};
    dfs(new MergeNetwork(input), seen, onPath, path, finals);
    assertThat(finals[0]).as("final states reached").isPositive();
    return seen.size();
  }

  private static void dfs(
      MergeNetwork state,
      Set<String> seen,
      Set<String> onPath,
      Deque<MergeNetwork.Step> path,
      long[] finals)
      throws Exception {
    String f = state.fingerprint();
    if (onPath.contains(f)) {
      throw new AssertionError("a cycle (livelock) after " + path);
    }
    if (!seen.add(f)) {
      return;
    }
    List<MergeNetwork.Step> steps = state.enabled();
    if (steps.isEmpty()) {
      finals[0]++;
      try {
        state.checkFinal();
      } catch (MergeNetwork.ModelViolation v) {
        throw new AssertionError(v + "\n after " + MergeNetwork.readable(path.toString()), v);
      }
      return;
    }
    onPath.add(f);
    for (MergeNetwork.Step s : steps) {
      MergeNetwork next = state.copy();
      path.addLast(s);
      try {
        next.step(s);
      } catch (MergeNetwork.ModelViolation | IllegalStateException v) {
        throw new AssertionError(v + "\n after " + MergeNetwork.readable(path.toString()), v);
      }
      dfs(next, seen, onPath, path, finals);
      path.removeLast();
    }
    onPath.remove(f);
  }

  private static final String X1 = "{\"x\":1}";
  private static final String X2Y2 = "{\"x\":2,\"y\":2}";

  /**
   * Explores the scenario under several renamings of its ids: the lock order follows the ids' home
   * person ids (hashes), so each renaming can take other branches of the protocol. The renamings
   * are kept if they give a new order of the homes.
   */
  private void check(ValidEvent... in) throws Exception {
    java.util.Set<String> ids = new java.util.TreeSet<>();
    for (ValidEvent e : in) {
      ids.add(e.distinctId);
      for (String id : List.of("u", "a", "b", "c", "z", "u1", "u2")) {
        if (e.propertiesJson.contains("\"" + id + "\"")) {
          ids.add(id);
        }
      }
    }
    java.util.Set<List<String>> orders = new HashSet<>();
    long states = 0;
    for (int k = 0; k < 12 && orders.size() < 4; k++) {
      String suffix = k == 0 ? "" : "-" + k;
      List<String> order = new ArrayList<>(ids);
      order.sort(
          java.util.Comparator.comparing(
              id ->
                  dev.tally.operators.persons.PersonIds.personId(
                      MergeNetwork.PROJECT, id + suffix)));
      if (!orders.add(order)) {
        continue;
      }
      List<ValidEvent> renamed = new ArrayList<>();
      for (ValidEvent e : in) {
        ValidEvent r = new ValidEvent();
        r.uuid = e.uuid;
        r.project = e.project;
        r.event = e.event;
        r.distinctId = e.distinctId + suffix;
        r.timestamp = e.timestamp;
        r.timestampMillis = e.timestampMillis;
        String props = e.propertiesJson;
        for (String id : ids) {
          props = props.replace("\"" + id + "\"", "\"" + id + suffix + "\"");
        }
        r.propertiesJson = props;
        r.propertiesPresent = true;
        renamed.add(r);
      }
      states += explore(renamed);
    }
    System.out.println(states + " states over " + orders.size() + " orders of the homes");
  }

  @Test
  void aLinkOfTwoUnknownIdsRacingTheFirstEventOfA() throws Exception {
    check(identify("u", "a"), view("a", X1));
  }

  @Test
  void aLinkJoiningAnUnknownIdToAKnownPersonRacingItsEvents() throws Exception {
    check(view("a", X1), identify("u", "a"), view("u", X2Y2));
  }

  @Test
  void twoKnownPersonsIdentifyingEachOtherAtOnce() throws Exception {
    check(view("u", X1), view("a", X2Y2), identify("u", "a"), identify("a", "u"));
  }

  @Test
  void twoUnknownIdsAliasingEachOtherAtOnce() throws Exception {
    check(alias("u", "a"), alias("a", "u"));
  }

  @Test
  void twoMergesRacingForOnePerson() throws Exception {
    check(
        view("a", X1), view("u1", X2Y2), view("u2", X1), identify("u1", "a"), identify("u2", "a"));
  }

  @Test
  void aMergeRefusedBecauseTheOtherPersonWasIdentifiedMeanwhile() throws Exception {
    check(view("a", X1), view("u", X2Y2), identify("a", "c"), identify("u", "a"));
  }

  @Test
  void aChainOfLinksOverThreeIds() throws Exception {
    check(view("a", X1), identify("u", "a"), alias("a", "b"), view("b", X2Y2));
  }

  @Test
  void aCycleOfThreeLinks() throws Exception {
    check(alias("a", "b"), alias("b", "c"), alias("c", "a"));
  }

  @Test
  void eventsOfAMergedIdAfterTheMerge() throws Exception {
    check(view("a", X1), view("u", X2Y2), identify("u", "a"), view("a", X2Y2), view("a", X1));
  }

  @Test
  void aMergeIntoAPersonThatIsBeingMergedAway() throws Exception {
    check(view("a", X1), view("u", X1), view("z", X2Y2), identify("u", "a"), identify("z", "u"));
  }

  @Test
  void aCycleOfThreeMergesOfKnownPersons() throws Exception {
    check(
        view("u", X1),
        view("a", X2Y2),
        view("b", X1),
        identify("u", "a"),
        identify("a", "b"),
        identify("b", "u"));
  }

  @Test
  void twoMergesForOnePersonWhileItIdentifiesOneOfThem() throws Exception {
    check(
        view("a", X1),
        view("u1", X2Y2),
        view("u2", X1),
        identify("u1", "a"),
        identify("u2", "a"),
        identify("a", "u1"));
  }

  @Test
  void anIdReRoutedTwiceByTwoMergesInARow() throws Exception {
    check(
        view("a", X1),
        view("u", X1),
        view("z", X2Y2),
        identify("u", "a"),
        identify("z", "u"),
        view("a", X1));
  }

  @Test
  void twoLinkEventsCoordinatedByOnePerson() throws Exception {
    check(view("a", X1), view("b", X2Y2), alias("u", "z"), identify("u", "a"), identify("z", "b"));
  }

  @Test
  void setOnceAndUnsetRacingAMerge() throws Exception {
    check(
        view("a", X1),
        view("u", X2Y2),
        ev("a", "$pageview", "{\"$set_once\":{\"x\":9,\"w\":9}}"),
        identify("u", "a"),
        ev("a", "$pageview", "{\"$unset\":[\"y\"]}"));
  }

  @Test
  void anIdentifyOfAnIdAlreadyInThePerson() throws Exception {
    check(view("u", X1), alias("u", "a"), identify("u", "a"), identify("a", "u"));
  }
}
