package dev.tally.sinks.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Carries the person-protocol messages a blue generation had in flight at a savepoint into the loop
 * topic of a green generation started from it (docs/scale-out.md §14, "A new generation from a
 * savepoint"): from each partition, from the savepoint's position on, the messages stamped with an
 * epoch {@code <= S}, to the same partition of green's topic, in order, in one Kafka transaction.
 */
public final class LoopInheritance {
  private LoopInheritance() {}

  /** What was copied. */
  public record Copied(int partitions, long messages, long skippedAfterSavepoint) {}

  /**
   * @param positions blue's loop-source position per partition in the savepoint (next offset to
   *     read); a partition without one is read from its beginning
   * @param savepointCheckpointId {@code S}: messages stamped {@code <= S} are copied
   * @param transactionalId of the copy's producer; a new attempt with the same id fences an
   *     unfinished one
   */
  public static Copied copy(
      String bootstrapServers,
      String blueTopic,
      Map<Integer, Long> positions,
      long savepointCheckpointId,
      String greenTopic,
      String transactionalId,
      Duration timeout)
      throws Exception {
    try (Admin admin =
        Admin.create(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      TopicDescription blue =
          admin.describeTopics(List.of(blueTopic)).allTopicNames().get().get(blueTopic);
      int partitions = blue.partitions().size();
      for (Integer p : positions.keySet()) {
        if (p < 0 || p >= partitions) {
          throw new IllegalStateException(
              "the savepoint reads partition "
                  + p
                  + " of "
                  + blueTopic
                  + ", which has "
                  + partitions
                  + " partitions: the loop topic's partitions must not change while its"
                  + " generation runs");
        }
      }
      ensureTopic(admin, greenTopic, partitions, blue);
      Map<TopicPartition, Long> highWatermarks = endOffsets(admin, blueTopic, partitions);
      return copy(
          bootstrapServers,
          blueTopic,
          partitions,
          positions,
          highWatermarks,
          savepointCheckpointId,
          greenTopic,
          transactionalId,
          timeout);
    }
  }

  /** Creates green's topic with blue's partitions, or checks the one there has them. */
  private static void ensureTopic(
      Admin admin, String greenTopic, int partitions, TopicDescription blue) throws Exception {
    try {
      short replicas = (short) blue.partitions().get(0).replicas().size();
      admin.createTopics(List.of(new NewTopic(greenTopic, partitions, replicas))).all().get();
      return;
    } catch (java.util.concurrent.ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw e;
      }
    }
    TopicDescription green =
        admin.describeTopics(List.of(greenTopic)).allTopicNames().get().get(greenTopic);
    if (green.partitions().size() != partitions) {
      throw new IllegalStateException(
          greenTopic
              + " exists with "
              + green.partitions().size()
              + " partitions, blue's loop topic has "
              + partitions
              + ": delete it (nothing has run on it) and upgrade again");
    }
  }

  private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic, int partitions)
      throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> r =
        admin
            .listOffsets(
                latest,
                new org.apache.kafka.clients.admin.ListOffsetsOptions(
                    IsolationLevel.READ_UNCOMMITTED))
            .all()
            .get();
    Map<TopicPartition, Long> ends = new HashMap<>();
    r.forEach((tp, info) -> ends.put(tp, info.offset()));
    return ends;
  }

  private static Copied copy(
      String bootstrapServers,
      String blueTopic,
      int partitions,
      Map<Integer, Long> positions,
      Map<TopicPartition, Long> highWatermarks,
      long maxEpoch,
      String greenTopic,
      String transactionalId,
      Duration timeout)
      throws Exception {
    Properties consumer = KafkaReaders.readCommitted(bootstrapServers);
    // a position retention already deleted must fail the copy, not skip to the end
    consumer.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    Properties producer = new Properties();
    // the copy's one transaction stays open while it waits for blue's: give it the whole wait
    producer.setProperty(
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
        Long.toString(timeout.plus(Duration.ofMinutes(1)).toMillis()));
    producer.setProperty(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    producer.setProperty(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    producer.setProperty(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    long copied = 0;
    long skipped = 0;
    try (KafkaConsumer<byte[], byte[]> in = KafkaReaders.consumer(consumer);
        KafkaProducer<byte[], byte[]> out =
            new KafkaProducer<>(producer, new ByteArraySerializer(), new ByteArraySerializer())) {
      List<TopicPartition> all = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        all.add(new TopicPartition(blueTopic, p));
      }
      in.assign(all);
      for (TopicPartition tp : all) {
        Long from = positions.get(tp.partition());
        if (from == null || from < 0) {
          in.seekToBeginning(List.of(tp));
        } else {
          in.seek(tp, from);
        }
      }
      out.initTransactions(); // fences an unfinished copy by the same id, aborting what it sent
      requireNoCommittedRecords(consumer, greenTopic, partitions);
      out.beginTransaction();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!passed(in, all, highWatermarks)) {
        if (System.nanoTime() > deadline) {
          out.abortTransaction();
          throw new IllegalStateException(
              "blue's loop topic "
                  + blueTopic
                  + " still has undecided transactions below the savepoint's end after "
                  + timeout.toSeconds()
                  + " s (is blue completing checkpoints?); nothing was started");
        }
        org.apache.kafka.clients.consumer.ConsumerRecords<byte[], byte[]> polled;
        try {
          polled = in.poll(Duration.ofMillis(200));
        } catch (org.apache.kafka.clients.consumer.OffsetOutOfRangeException e) {
          out.abortTransaction();
          throw new IllegalStateException(
              "blue's loop messages at the savepoint's positions "
                  + e.offsetOutOfRangePartitions()
                  + " are gone (retention deleted them): the savepoint is too old to start green"
                  + " from; take a new one, or recount green: --green-start recount");
        }
        for (ConsumerRecord<byte[], byte[]> r : polled) {
          if (r.offset() >= highWatermarks.get(new TopicPartition(r.topic(), r.partition()))) {
            continue; // written after the savepoint was complete: never in flight at it
          }
          Long epoch = LoopTopic.epochOf(r.headers());
          if (epoch == null) {
            out.abortTransaction();
            throw new IllegalStateException(
                "a message in "
                    + blueTopic
                    + " ("
                    + r.partition()
                    + "@"
                    + r.offset()
                    + ") has no "
                    + LoopTopic.EPOCH_HEADER
                    + " header: blue runs a Tally that does not stamp its loop messages, so its"
                    + " merges in flight cannot be told from later ones; upgrade blue in place"
                    + " first, or recount green: --green-start recount");
          }
          if (epoch > maxEpoch) {
            skipped++;
            continue;
          }
          out.send(
              new ProducerRecord<>(
                  greenTopic,
                  r.partition(),
                  null,
                  r.key(),
                  r.value(),
                  LoopTopic.epochHeaders(0))); // before every checkpoint of green
          copied++;
        }
      }
      out.commitTransaction();
    }
    return new Copied(partitions, copied, skipped);
  }

  /**
   * Refuses a green topic that holds committed records (a copy already done, or green ran): a
   * second copy would deliver blue's messages twice. Aborted records of a failed attempt are not
   * committed and do not count.
   */
  private static void requireNoCommittedRecords(
      Properties consumer, String greenTopic, int partitions) {
    try (KafkaConsumer<byte[], byte[]> green = KafkaReaders.consumer(consumer)) {
      List<TopicPartition> all = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        all.add(new TopicPartition(greenTopic, p));
      }
      green.assign(all);
      green.seekToBeginning(all);
      Map<TopicPartition, Long> end = green.endOffsets(all); // read_committed: the stable end
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (all.stream().anyMatch(tp -> green.position(tp) < end.get(tp))) {
        var records = green.poll(Duration.ofMillis(200));
        if (!records.isEmpty()) {
          ConsumerRecord<byte[], byte[]> r = records.iterator().next();
          throw new IllegalStateException(
              greenTopic
                  + " is not empty ("
                  + r.partition()
                  + "@"
                  + r.offset()
                  + " is committed): this green generation already received blue's loop"
                  + " messages or ran; release it and upgrade to a new generation name");
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("could not read " + greenTopic + " to its end in 30 s");
        }
      }
    }
  }

  /** Whether every partition's read_committed position passed its high watermark. */
  private static boolean passed(
      KafkaConsumer<byte[], byte[]> in,
      List<TopicPartition> all,
      Map<TopicPartition, Long> highWatermarks) {
    for (TopicPartition tp : all) {
      if (in.position(tp) < highWatermarks.get(tp)) {
        return false;
      }
    }
    return true;
  }
}
