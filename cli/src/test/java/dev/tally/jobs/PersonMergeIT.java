package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.EnrichedEvent;
import dev.tally.avro.RawEvent;
import dev.tally.operators.persons.PersonIds;
import dev.tally.sinks.kafka.AvroCodec;
import dev.tally.sinks.postgres.CommittedRows;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Person merges in the parallel streaming job (parallelism 2, distinct ids on different
 * partitions): once {@code $identify} merged the anonymous person into the identified one, events
 * of both distinct ids carry one person_id and count as one person.
 */
class PersonMergeIT extends EndToEndTest {

  @BeforeAll
  static void createTopics() throws Exception {
    kafka.createTopic("raw_m", 2);
    for (String t : List.of("enriched_m", "dlq_m", "late_m")) {
      kafka.createTopic(t, 1);
    }
  }

  private static byte[] event(String distinctId, String name, Instant ts, String properties) {
    return AvroCodec.encode(
        RawEvent.newBuilder()
            .setUuid(UUID.randomUUID().toString())
            .setProject("acme")
            .setEvent(name)
            .setDistinctId(distinctId)
            .setTimestamp(ts.toString())
            .setProperties(properties)
            .build());
  }

  private static List<byte[][]> keyed(List<Object[]> events) {
    List<byte[][]> out = new ArrayList<>();
    for (Object[] e : events) {
      out.add(
          new byte[][] {
            ("acme:" + e[0]).getBytes(java.nio.charset.StandardCharsets.UTF_8), (byte[]) e[1]
          });
    }
    return out;
  }

  @Test
  void shouldGiveBothDistinctIdsOnePersonAfterTheMerge() throws Exception {
    Instant minute = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(10));
    Configuration config = kafka.jobConfig("merge", "m", postgres, tmp.resolve("pw"));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("person-merge");

    // Before the merge: two persons.
    kafka.produce(
        "raw_m",
        keyed(
            List.of(
                new Object[] {
                  "anon-1",
                  event(
                      "anon-1",
                      "$pageview",
                      minute.plusSeconds(1),
                      "{\"$set\":{\"plan\":\"free\",\"ref\":\"ads\"}}")
                },
                new Object[] {
                  "user-1",
                  event(
                      "user-1", "$pageview", minute.plusSeconds(2), "{\"$set\":{\"plan\":\"pro\"}}")
                })));
    awaitConsumed(2);
    kafka.produce(
        "raw_m",
        keyed(
            List.<Object[]>of(
                new Object[] {
                  "user-1",
                  event(
                      "user-1",
                      "$identify",
                      minute.plusSeconds(3),
                      "{\"$anon_distinct_id\":\"anon-1\"}")
                })));
    awaitConsumed(3);
    // After the merge, the next minute: both ids are one person.
    kafka.produce(
        "raw_m",
        keyed(
            List.of(
                new Object[] {"anon-1", event("anon-1", "$pageview", minute.plusSeconds(61), "{}")},
                new Object[] {
                  "user-1", event("user-1", "$pageview", minute.plusSeconds(62), "{}")
                })));
    awaitConsumed(5);
    // user-1's person is identified now: merging it into user-2's is refused, and the warning is
    // committed with the rows where the audit reports it.
    kafka.produce(
        "raw_m",
        keyed(
            List.<Object[]>of(
                new Object[] {"user-2", event("user-2", "signup", minute.plusSeconds(63), "{}")},
                new Object[] {
                  "user-2",
                  event(
                      "user-2",
                      "$identify",
                      minute.plusSeconds(64),
                      "{\"$anon_distinct_id\":\"user-1\"}")
                })));
    awaitConsumed(7);
    job.stopWithSavepoint(
            false, tmp.resolve("sp-merge").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();

    String user = PersonIds.personId("acme", "user-1");
    String anon = PersonIds.personId("acme", "anon-1");
    Map<String, List<String>> personsByDistinctId = new HashMap<>();
    Map<String, String> propertiesOfLast = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("enriched_m")) {
      EnrichedEvent e = AvroCodec.decode(r.value(), EnrichedEvent.class);
      personsByDistinctId
          .computeIfAbsent(e.getDistinctId(), k -> new ArrayList<>())
          .add(e.getTimestamp() + " " + e.getPersonId());
      propertiesOfLast.put(e.getDistinctId(), e.getPersonProperties());
    }
    assertThat(personsByDistinctId.get("anon-1"))
        .containsExactlyInAnyOrder(
            minute.plusSeconds(1) + " " + anon, minute.plusSeconds(61) + " " + user);
    assertThat(personsByDistinctId.get("user-1"))
        .allSatisfy(s -> assertThat(s).endsWith(user))
        .hasSize(3);
    assertThat(propertiesOfLast.get("anon-1"))
        .contains("\"plan\":\"pro\"")
        .contains("\"ref\":\"ads\""); // U wins, A's kept

    assertThat(postgres.queryLong(personsOf(minute)))
        .as("before the merge: two persons")
        .isEqualTo(2);
    assertThat(postgres.queryLong(personsOf(minute.plusSeconds(60))))
        .as("after the merge: counted once")
        .isEqualTo(1);
    try (java.sql.Connection c = postgres.admin()) {
      assertThat(CommittedRows.warnings(c, "merge"))
          .containsExactly(
              new CommittedRows.Warning(
                  dev.tally.operators.model.TallyRow.WARNING_MERGE_REFUSED, "acme", 1));
    }
  }

  private static String personsOf(Instant windowStart) {
    return "SELECT persons FROM tally.event_counts WHERE generation = 'merge' AND grain = 'minute' AND event = '$pageview'"
        + " AND window_start = to_timestamp("
        + windowStart.getEpochSecond()
        + ") ORDER BY revision DESC LIMIT 1";
  }

  private static void awaitConsumed(long n) {
    // read and accounted for: with persons keyed below the project, a link is applied
    // asynchronously (docs/scale-out.md §14), and the steps here depend on each other
    awaitAccounted("merge", n, Duration.ofSeconds(60));
  }
}
