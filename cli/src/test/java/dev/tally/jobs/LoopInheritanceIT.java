package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tally.sinks.kafka.LoopInheritance;
import dev.tally.sinks.kafka.LoopTopic;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The copy of blue's loop messages in flight at a savepoint into green's loop topic
 * (docs/scale-out.md §14), against a real broker, with blue's loop writer played by a transactional
 * producer: one transaction per checkpoint epoch, as the KafkaSink writes them.
 */
class LoopInheritanceIT {
  private static KafkaTestCluster kafka;

  @BeforeAll
  static void start() throws Exception {
    kafka = KafkaTestCluster.start();
  }

  @AfterAll
  static void stop() throws Exception {
    kafka.close();
  }

  @Test
  void shouldCopyFromTheSavepointsPositionsWhatWasStampedUpToItsCheckpointInOrderAndPartition()
      throws Exception {
    kafka.createTopic("loop_b1", 2);
    try (KafkaProducer<byte[], byte[]> blue = transactional("b1")) {
      epoch(blue, "loop_b1", 1, 0, "a0", "b0").commitTransaction();
      epoch(blue, "loop_b1", 1, 1, "a1").commitTransaction();
      epoch(blue, "loop_b1", 2, 0, "c0").commitTransaction();
      epoch(blue, "loop_b1", 2, 1, "aborted1").abortTransaction();
      epoch(blue, "loop_b1", 3, 0, "after0").commitTransaction(); // after the savepoint's barrier
      epoch(blue, "loop_b1", 3, 1, "after1").commitTransaction();
    }
    // the savepoint (checkpoint 2) had read a0 from partition 0; no reader held partition 1
    LoopInheritance.Copied copied =
        LoopInheritance.copy(
            kafka.bootstrapServers(),
            "loop_b1",
            Map.of(0, 1L),
            2,
            "loop_g1",
            "copy-g1",
            Duration.ofSeconds(30));

    assertThat(copied.messages()).isEqualTo(3);
    assertThat(copied.skippedAfterSavepoint()).isEqualTo(2);
    assertThat(green("loop_g1"))
        .as("in blue's order, in the same partition, stamped before every checkpoint of green")
        .containsExactly("0:b0@0", "0:c0@0", "1:a1@0");
  }

  @Test
  void shouldWaitUntilBluesOpenTransactionBelowTheSavepointsEndIsDecided() throws Exception {
    kafka.createTopic("loop_b2", 1);
    try (KafkaProducer<byte[], byte[]> blue = transactional("b2")) {
      epoch(blue, "loop_b2", 1, 0, "x").commitTransaction();
      epoch(blue, "loop_b2", 2, 0, "in-flight"); // prepared at the savepoint, committed later
      CompletableFuture<LoopInheritance.Copied> copy =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return LoopInheritance.copy(
                      kafka.bootstrapServers(),
                      "loop_b2",
                      Map.of(0, 1L),
                      2,
                      "loop_g2",
                      "copy-g2",
                      Duration.ofSeconds(30));
                } catch (Exception e) {
                  throw new RuntimeException(e);
                }
              });
      assertThatThrownBy(() -> copy.get(2, TimeUnit.SECONDS))
          .as("a copy that did not wait would miss the message blue commits next")
          .isInstanceOf(TimeoutException.class);
      blue.commitTransaction();
      assertThat(copy.get(30, TimeUnit.SECONDS).messages()).isEqualTo(1);
    }
    assertThat(green("loop_g2")).containsExactly("0:in-flight@0");
  }

  @Test
  void shouldRefuseWhatItCannotCopyExactlyAndLeaveGreensTopicEmpty() throws Exception {
    kafka.createTopic("loop_b3", 1);
    try (KafkaProducer<byte[], byte[]> blue = transactional("b3")) {
      blue.beginTransaction();
      blue.send(new ProducerRecord<>("loop_b3", 0, bytes("k"), bytes("\u0001unstamped")));
      blue.commitTransaction();
    }
    assertThatThrownBy(
            () ->
                LoopInheritance.copy(
                    kafka.bootstrapServers(),
                    "loop_b3",
                    Map.of(),
                    5,
                    "loop_g3",
                    "copy-g3",
                    Duration.ofSeconds(30)))
        .hasMessageContaining("has no tally-epoch header")
        .hasMessageContaining("--green-start recount");
    assertThat(green("loop_g3")).isEmpty();

    kafka.createTopic("loop_b4", 1);
    try (KafkaProducer<byte[], byte[]> blue = transactional("b4")) {
      epoch(blue, "loop_b4", 1, 0, "m").commitTransaction();
    }
    LoopInheritance.copy(
        kafka.bootstrapServers(),
        "loop_b4",
        Map.of(),
        1,
        "loop_g4",
        "copy-g4",
        Duration.ofSeconds(30));
    assertThatThrownBy(
            () ->
                LoopInheritance.copy(
                    kafka.bootstrapServers(),
                    "loop_b4",
                    Map.of(),
                    1,
                    "loop_g4",
                    "copy-g4",
                    Duration.ofSeconds(30)))
        .as("a second copy into the same green would deliver blue's messages twice")
        .hasMessageContaining("loop_g4 is not empty");
    assertThat(green("loop_g4")).containsExactly("0:m@0");

    kafka.createTopic("loop_b5", 1);
    try (KafkaProducer<byte[], byte[]> blue = transactional("b5")) {
      epoch(blue, "loop_b5", 1, 0, "never-decided");
      assertThatThrownBy(
              () ->
                  LoopInheritance.copy(
                      kafka.bootstrapServers(),
                      "loop_b5",
                      Map.of(),
                      1,
                      "loop_g5",
                      "copy-g5",
                      Duration.ofSeconds(2)))
          .hasMessageContaining("undecided transactions")
          .hasMessageContaining("nothing was started");
      blue.abortTransaction();
    }
    assertThat(green("loop_g5")).isEmpty();
  }

  @Test
  void aCopyThatFailedAfterSendingIsAbortedAndCanBeRetriedIntoTheSameTopic() throws Exception {
    kafka.createTopic("loop_b6", 1);
    try (KafkaProducer<byte[], byte[]> blue = transactional("b6")) {
      epoch(blue, "loop_b6", 1, 0, "m1").commitTransaction();
      epoch(blue, "loop_b6", 1, 0, "m2"); // blue's transaction, decided only later
      assertThatThrownBy(
              () ->
                  LoopInheritance.copy(
                      kafka.bootstrapServers(),
                      "loop_b6",
                      Map.of(),
                      1,
                      "loop_g6",
                      "copy-g6",
                      Duration.ofSeconds(2)))
          .as("it sent m1, then gave up waiting for m2's transaction")
          .hasMessageContaining("undecided transactions");
      blue.commitTransaction();
    }
    LoopInheritance.Copied again =
        LoopInheritance.copy(
            kafka.bootstrapServers(),
            "loop_b6",
            Map.of(),
            1,
            "loop_g6",
            "copy-g6",
            Duration.ofSeconds(30));
    assertThat(again.messages()).isEqualTo(2);
    assertThat(green("loop_g6"))
        .as("the first attempt's m1 was aborted: each message once")
        .containsExactly("0:m1@0", "0:m2@0");
  }

  private static KafkaProducer<byte[], byte[]> transactional(String id) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("transactional.id", "blue-loop-" + id);
    KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    producer.initTransactions();
    return producer;
  }

  /** Begins a transaction of {@code epoch} with {@code values} in {@code partition}. */
  private static KafkaProducer<byte[], byte[]> epoch(
      KafkaProducer<byte[], byte[]> producer,
      String topic,
      long epoch,
      int partition,
      String... values) {
    producer.beginTransaction();
    for (String v : values) {
      RecordHeaders headers = new RecordHeaders();
      headers.add(LoopTopic.EPOCH_HEADER, ByteBuffer.allocate(8).putLong(epoch).array());
      producer.send(
          new ProducerRecord<>(topic, partition, null, bytes("k"), bytes("\u0001" + v), headers));
    }
    producer.flush();
    return producer;
  }

  /** Green's committed loop messages as {@code partition:value@epoch}, in order per partition. */
  private static List<String> green(String topic) {
    List<String> out = new ArrayList<>();
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>(kafka.readCommitted(topic));
    records.sort(
        java.util.Comparator.<ConsumerRecord<byte[], byte[]>>comparingInt(ConsumerRecord::partition)
            .thenComparingLong(ConsumerRecord::offset));
    for (ConsumerRecord<byte[], byte[]> r : records) {
      var h = r.headers().lastHeader(LoopTopic.EPOCH_HEADER);
      out.add(
          r.partition()
              + ":"
              + new String(r.value(), 1, r.value().length - 1, StandardCharsets.UTF_8)
              + "@"
              + ByteBuffer.wrap(h.value()).getLong());
    }
    return out;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
