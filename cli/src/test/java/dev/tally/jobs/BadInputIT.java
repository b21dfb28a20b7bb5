package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.DeadLetter;
import dev.tally.avro.PersonState;
import dev.tally.avro.RawEvent;
import dev.tally.sinks.kafka.AvroCodec;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Poison records from Kafka reach the dead-letter topic with their reason and original bytes, the
 * ledger balances, and the job never restarts (restarts are disabled: one exception would fail the
 * test).
 */
class BadInputIT extends EndToEndTest {

  @BeforeAll
  static void createTopics() throws Exception {
    for (String t : List.of("raw_bad", "enriched_bad", "dlq_bad", "late_bad")) {
      kafka.createTopic(t, 1);
    }
  }

  private static byte[] raw(Consumer<RawEvent> change) {
    RawEvent e =
        RawEvent.newBuilder()
            .setUuid("5f0c6a3e-2b1d-4c9e-9a51-0d2f3b7c8e11")
            .setProject("acme")
            .setEvent("$pageview")
            .setDistinctId("user-1")
            .setTimestamp(Instant.now().toString())
            .setProperties("{\"$browser\":\"Firefox\"}")
            .build();
    change.accept(e);
    return AvroCodec.encode(e);
  }

  @Test
  void shouldDeadLetterEveryPoisonRecordWithItsReasonAndBytesWithoutRestarting() throws Exception {
    Map<String, byte[]> bad = new LinkedHashMap<>();
    bad.put(
        "malformed",
        "not avro at all \u0000\u00ff".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    bad.put(
        "malformed ",
        AvroCodec.encode(
            PersonState.newBuilder()
                .setPersonId("p")
                .setProperties("{}")
                .setDistinctIds(List.of("a", "b"))
                .setIsIdentified(true)
                .setCreatedAt(1)
                .build()));
    bad.put("oversized", raw(e -> e.setProperties("{\"x\":\"" + "y".repeat(70_000) + "\"}")));
    bad.put("missing_field:uuid", raw(e -> e.setUuid(null)));
    bad.put("missing_field:project", raw(e -> e.setProject(null)));
    bad.put("missing_field:event", raw(e -> e.setEvent(null)));
    bad.put("missing_field:distinct_id", raw(e -> e.setDistinctId(null)));
    bad.put("missing_field:timestamp", raw(e -> e.setTimestamp(null)));
    bad.put("invalid_field:uuid", raw(e -> e.setUuid("5f0c6a3e2b1d4c9e9a510d2f3b7c8e11")));
    bad.put("invalid_field:project", raw(e -> e.setProject("_invalid")));
    bad.put("invalid_field:event", raw(e -> e.setEvent("")));
    bad.put("invalid_field:distinct_id", raw(e -> e.setDistinctId("d".repeat(201))));
    bad.put("invalid_field:timestamp", raw(e -> e.setTimestamp("2026-11-23T10:00:60Z")));
    bad.put("invalid_field:properties", raw(e -> e.setProperties("{\"$set\": [1]}")));
    bad.put(
        "invalid_field:properties ", raw(e -> e.setProperties("[".repeat(600) + "]".repeat(600))));

    List<byte[][]> records = new ArrayList<>();
    bad.values().forEach(v -> records.add(new byte[][] {null, v}));
    records.add(new byte[][] {null, raw(e -> {})}); // one valid event keeps time moving
    kafka.produce("raw_bad", records);

    Configuration config = kafka.jobConfig("bad", "bad", postgres, tmp.resolve("pw"));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.configure(
        Configuration.fromMap(Map.of(RestartStrategyOptions.RESTART_STRATEGY.key(), "none")));
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("tally-bad-input");

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              assertThat(job.getJobStatus().get().isGloballyTerminalState())
                  .as("job keeps running")
                  .isFalse();
              assertThat(ledger("bad").deadLettered()).isEqualTo(bad.size());
            });
    assertThat(ledger("bad").unbalancedRows()).isZero();
    job.cancel().get();

    List<String> reasons = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : kafka.readCommitted("dlq_bad")) {
      DeadLetter d = AvroCodec.decode(r.value(), DeadLetter.class);
      reasons.add(d.getReason());
      ByteBuffer p = d.getPayload();
      byte[] bytes = new byte[p.remaining()];
      p.get(bytes);
      payloads.add(bytes);
      assertThat(d.getSource()).startsWith("raw_bad/0@");
      assertThat(d.getGeneration()).isEqualTo("bad");
      assertThat(new String(r.headers().lastHeader("tally.generation").value(), "UTF-8"))
          .isEqualTo("bad");
      if (d.getReason().equals("oversized")) {
        // the first 64 KiB and the size: whole, a record near the broker's limit could not be
        // written to the dead-letter topic at all
        assertThat(bytes).hasSize(AvroCodec.MAX_DEAD_LETTER_PAYLOAD);
        assertThat(d.getPayloadBytes()).isEqualTo(bad.get("oversized").length);
        assertThat(Arrays.equals(bytes, Arrays.copyOf(bad.get("oversized"), bytes.length)))
            .isTrue();
      } else {
        assertThat(d.getPayloadBytes()).isEqualTo(-1);
      }
    }
    assertThat(reasons)
        .containsExactlyInAnyOrderElementsOf(bad.keySet().stream().map(String::strip).toList());
    for (Map.Entry<String, byte[]> original : bad.entrySet()) {
      if (!original.getKey().equals("oversized")) {
        assertThat(payloads)
            .anySatisfy(p -> assertThat(Arrays.equals(p, original.getValue())).isTrue());
      }
    }
  }
}
