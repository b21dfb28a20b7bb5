package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.EnrichedEvent;
import dev.tally.avro.RawEvent;
import dev.tally.sinks.kafka.AvroCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Dedup by (project, uuid) sends one distinct_id's consecutive events to different subtasks; the
 * person rules must still see them in the order they were read (decision 22, docs/scale-out.md
 * §3a). Step n of each distinct_id sets the person property kn, in one burst, with resent copies
 * (same uuid) mixed in: the person of every enriched step n must have exactly k1..kn, and each step
 * is emitted exactly once. Without the order stage the burst reaches the person rules mixed up over
 * the two dedup subtasks' channels (seen when it was removed: steps enriched with later steps' keys
 * or without earlier ones).
 */
class SplitOrderIT extends EndToEndTest {
  private static final int IDS = 60;
  private static final int STEPS = 40;
  private static final Pattern STEP = Pattern.compile("\"step\":(\\d+)");
  private static final Pattern KEY = Pattern.compile("\"k(\\d+)\":");

  @BeforeAll
  static void createTopics() throws Exception {
    kafka.createTopic("raw_o", 4);
    for (String t : List.of("enriched_o", "dlq_o", "late_o")) {
      kafka.createTopic(t, 1);
    }
  }

  @Test
  void shouldApplyEachDistinctIdsEventsInReadOrderAcrossTheShuffleByUuid() throws Exception {
    Instant start = Instant.now().truncatedTo(ChronoUnit.MINUTES).minus(Duration.ofMinutes(3));
    Configuration config = kafka.jobConfig("order", "o", postgres, tmp.resolve("pw"));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("split-order");

    Random random = new Random(15);
    List<byte[][]> burst = new ArrayList<>();
    int duplicates = 0;
    for (int step = 1; step <= STEPS; step++) {
      for (int id = 0; id < IDS; id++) {
        String distinctId = "user-" + id;
        byte[] value =
            AvroCodec.encode(
                RawEvent.newBuilder()
                    .setUuid(UUID.randomUUID().toString())
                    .setProject("acme")
                    .setEvent("step")
                    .setDistinctId(distinctId)
                    .setTimestamp(start.plusMillis(step * 100L).toString())
                    .setProperties("{\"$set\":{\"k" + step + "\":1},\"step\":" + step + "}")
                    .build());
        byte[] key = ("acme:" + distinctId).getBytes(StandardCharsets.UTF_8);
        burst.add(new byte[][] {key, value});
        if (random.nextInt(10) == 0) { // a resent copy: a duplicate, leaves a gap in the offsets
          burst.add(new byte[][] {key, value});
          duplicates++;
        }
      }
    }
    kafka.produce("raw_o", burst);
    int all = burst.size();
    awaitAccounted("order", all, Duration.ofSeconds(90));
    job.stopWithSavepoint(
            false, tmp.resolve("sp-order").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();

    Map<String, List<String>> mismatches = new HashMap<>();
    Map<String, Integer> emitted = new HashMap<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("enriched_o")) {
      EnrichedEvent e = AvroCodec.decode(r.value(), EnrichedEvent.class);
      int own = step(e.getProperties());
      // in read order, step n's person has set exactly k1..kn
      List<Integer> keys = new ArrayList<>();
      Matcher k = KEY.matcher(e.getPersonProperties());
      while (k.find()) {
        keys.add(Integer.parseInt(k.group(1)));
      }
      emitted.merge(e.getDistinctId() + "#" + own, 1, Integer::sum);
      if (keys.size() != own || keys.stream().anyMatch(n -> n > own)) {
        mismatches
            .computeIfAbsent(e.getDistinctId(), x -> new ArrayList<>())
            .add("step " + own + " enriched with " + keys);
      }
    }
    assertThat(mismatches).as("events applied out of read order").isEmpty();
    assertThat(emitted).hasSize(IDS * STEPS).allSatisfy((k, n) -> assertThat(n).isEqualTo(1));
    assertThat(ledger("order").duplicates()).isEqualTo(duplicates);
  }

  private static int step(String json) {
    Matcher m = STEP.matcher(json);
    assertThat(m.find()).as("a step in %s", json).isTrue();
    return Integer.parseInt(m.group(1));
  }
}
