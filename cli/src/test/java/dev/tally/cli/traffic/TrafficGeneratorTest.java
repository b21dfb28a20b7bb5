package dev.tally.cli.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The generated traffic carries person links, and the expectation counts a link as one person. */
class TrafficGeneratorTest {
  private static final Instant START = Instant.parse("2026-12-02T12:00:00Z");

  @Test
  void shouldSendAboutTwoPercentLinksByNewDistinctIdsOfKnownOnes() {
    List<GeneratedEvent> sent = new TrafficGenerator(5, START, 100, 200).next(20_000);
    List<GeneratedEvent> links =
        sent.stream()
            .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
            .filter(e -> TrafficGenerator.linkedDistinctId(e) != null)
            .toList();
    assertThat(links.size()).isBetween(250, 450);
    assertThat(links).anyMatch(e -> e.event().equals("$identify"));
    assertThat(links).anyMatch(e -> e.event().equals("$create_alias"));
    Set<String> members = new HashSet<>();
    for (GeneratedEvent l : links) {
      assertThat(members.add(l.distinctId())).as("U is new: %s", l.distinctId()).isTrue();
      assertThat(TrafficGenerator.linkedDistinctId(l)).startsWith("user-");
    }
    Set<String> seen = new HashSet<>();
    for (GeneratedEvent e : sent) {
      if (e.kind() == GeneratedEvent.Kind.VALID
          && e.distinctId().startsWith("member-")
          && seen.add(e.distinctId())) {
        assertThat(TrafficGenerator.linkedDistinctId(e))
            .as("a new distinct_id is first seen in its link: %s", e.distinctId())
            .isNotNull();
      }
    }
    assertThat(seen).hasSameSizeAs(members);
    List<GeneratedEvent> other = new TrafficGenerator(6, START, 100, 200).next(20_000);
    assertThat(other.stream().map(GeneratedEvent::distinctId).filter(members::contains))
        .as("another generator's new ids are its own")
        .isEmpty();
  }

  @Test
  void shouldCountTheTwoDistinctIdsOfALinkAsOnePerson() {
    List<GeneratedEvent> sent = new TrafficGenerator(5, START, 5, 50).next(5000);
    Map<String, String> expected = ExpectedCounts.eventCounts(sent);
    // the same rows counted as if no link existed: persons = distinct distinct_ids
    Map<String, Set<String>> ids = new HashMap<>();
    for (GeneratedEvent e : sent) {
      if (e.kind() == GeneratedEvent.Kind.VALID) {
        long minute = Math.floorDiv(e.timestampMillis(), 60_000L) * 60_000L;
        ids.computeIfAbsent(
                e.project() + "|minute|" + minute + "|" + e.event(), k -> new HashSet<>())
            .add(e.distinctId());
      }
    }
    int merged = 0;
    for (Map.Entry<String, Set<String>> row : ids.entrySet()) {
      int persons = Integer.parseInt(expected.get(row.getKey()).split("/")[1]);
      assertThat(persons).isLessThanOrEqualTo(row.getValue().size());
      if (persons < row.getValue().size()) {
        merged++;
        assertThat(row.getValue()).anyMatch(id -> id.startsWith("member-"));
      }
    }
    assertThat(merged).as("rows where a link made two distinct_ids one person").isPositive();
  }
}
