package dev.tally.operators.functions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.PersonSnapshot;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import dev.tally.operators.validation.EventValidator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The person cache must be invisible: the same events give the same enriched records, person
 * snapshots and warnings with the cache off, with a cache so small that every lookup evicts, and
 * with one that holds everything — across creates, $set/$set_once, merges by $identify and
 * $create_alias, refused merges, and two projects with the same distinct_ids.
 */
class EnrichWithPersonCacheTest {

  private static ValidEvent event(
      int n, String project, String name, String distinctId, String properties) {
    String line =
        String.format(
            "{\"uuid\":\"00000000-0000-4000-8000-%012d\",\"project\":\"%s\",\"event\":\"%s\","
                + "\"distinct_id\":\"%s\",\"timestamp\":\"2026-11-23T10:%02d:%02dZ\","
                + "\"properties\":%s}",
            n, project, name, distinctId, (n / 60) % 60, n % 60, properties);
    return EventValidator.parseJsonLine(line.getBytes(StandardCharsets.UTF_8), "test").valid;
  }

  /** Seeded traffic dense in person changes: a dozen distinct_ids per project, many merges. */
  private static List<ValidEvent> traffic(long seed, int count) {
    Random random = new Random(seed);
    String[] projects = {"acme", "globex"};
    List<ValidEvent> events = new ArrayList<>();
    for (int n = 1; n <= count; n++) {
      String project = projects[random.nextInt(projects.length)];
      String user = "u" + random.nextInt(6);
      String anon = "anon" + random.nextInt(6);
      String plan = "\"p" + random.nextInt(3) + "\"";
      ValidEvent e =
          switch (random.nextInt(6)) {
            case 0 ->
                event(n, project, "$identify", user, "{\"$anon_distinct_id\":\"" + anon + "\"}");
            case 1 -> event(n, project, "$create_alias", user, "{\"alias\":\"" + anon + "\"}");
            case 2 -> event(n, project, "$pageview", anon, "{\"$set\":{\"plan\":" + plan + "}}");
            case 3 ->
                event(n, project, "$pageview", user, "{\"$set_once\":{\"first\":" + plan + "}}");
            default -> event(n, project, "$pageview", random.nextBoolean() ? user : anon, "{}");
          };
      events.add(e);
    }
    return events;
  }

  /** Everything the operator emitted, as comparable lines. */
  private static List<String> run(List<ValidEvent> events, int cacheSize) throws Exception {
    EnrichWithPerson enrich = new EnrichWithPerson(true, PersonModel.UNLIMITED, null, cacheSize);
    try (var h =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(enrich), (ValidEvent e) -> e.project, Types.STRING)) {
      h.open();
      long t = 0;
      for (ValidEvent e : events) {
        h.processElement(e, ++t);
      }
      List<String> lines = new ArrayList<>();
      for (EnrichedRecord r : h.extractOutputValues()) {
        lines.add("enriched " + r.event.uuid + " " + r.personId + " " + r.personPropertiesJson);
      }
      for (var s : h.getSideOutput(Tags.PERSONS)) {
        PersonSnapshot p = s.getValue();
        lines.add("person " + p.toJson() + " removed=" + p.removed);
      }
      for (var w : h.getSideOutput(Tags.WARNINGS)) {
        lines.add("warning " + w.getValue().key());
      }
      lines.add("state entries " + h.numKeyedStateEntries());
      return lines;
    }
  }

  @Test
  void shouldEnrichExactlyAsWithoutTheCacheWhateverItsSize() throws Exception {
    List<ValidEvent> events = traffic(42, 3000);

    List<String> uncached = run(events, 0);

    assertThat(uncached).as("the traffic merges persons").anyMatch(l -> l.endsWith("removed=true"));
    assertThat(uncached).as("and refuses merges").anyMatch(l -> l.startsWith("warning"));
    assertThat(run(events, 1)).as("a cache that evicts on every lookup").isEqualTo(uncached);
    assertThat(run(events, 10_000)).as("a cache that holds everything").isEqualTo(uncached);
  }
}
