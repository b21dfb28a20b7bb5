package dev.tally.savepoints.audit;

import dev.tally.avro.DeadLetter;
import dev.tally.avro.EnrichedEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/** Counts committed records in Kafka (isolation.level=read_committed), for the audit. */
public final class KafkaCounts implements AutoCloseable {
  private static final Duration POLL = Duration.ofMillis(500);
  private final KafkaConsumer<byte[], byte[]> consumer;

  public KafkaCounts(String bootstrap) {
    Properties p = dev.tally.sinks.kafka.KafkaReaders.readCommitted(bootstrap);
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    consumer = dev.tally.sinks.kafka.KafkaReaders.consumer(p);
  }

  /** Committed records of one partition with offsets in [from, to). */
  long countRange(String topic, int partition, long from, long to) {
    TopicPartition tp = new TopicPartition(topic, partition);
    consumer.assign(List.of(tp));
    consumer.seek(tp, from);
    long end = Math.min(to, consumer.endOffsets(List.of(tp)).get(tp));
    long count = 0;
    long idle = 0;
    while (consumer.position(tp) < end && idle < 20) {
      var records = consumer.poll(POLL);
      idle = records.isEmpty() ? idle + 1 : 0;
      for (ConsumerRecord<byte[], byte[]> r : records) {
        if (r.offset() < to) {
          count++;
        }
      }
    }
    return count;
  }

  /** Committed records of a whole topic that match. */
  long countAll(String topic, Predicate<byte[]> match) {
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic).stream()
            .map(i -> new TopicPartition(topic, i.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    long count = 0;
    long idle = 0;
    while (idle < 20 && partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
      var records = consumer.poll(POLL);
      idle = records.isEmpty() ? idle + 1 : 0;
      for (ConsumerRecord<byte[], byte[]> r : records) {
        if (match.test(r.value())) {
          count++;
        }
      }
    }
    return count;
  }

  /** uuid → how many times it is in the enriched topic for a generation (read_committed). */
  public Map<String, Integer> enrichedUuids(String topic, String generation) {
    SpecificDatumReader<EnrichedEvent> reader = new SpecificDatumReader<>(EnrichedEvent.class);
    Map<String, Integer> counts = new java.util.HashMap<>();
    countAll(
        topic,
        bytes -> {
          try {
            EnrichedEvent e = reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null));
            if (generation.equals(e.getGeneration())) {
              counts.merge(e.getUuid(), 1, Integer::sum);
            }
          } catch (IOException | RuntimeException ignored) {
            // not an enriched event of this schema: not counted
          }
          return false;
        });
    return counts;
  }

  static Predicate<byte[]> enrichedOf(String generation) {
    return ofGeneration(EnrichedEvent.class, EnrichedEvent::getGeneration, generation);
  }

  static Predicate<byte[]> deadLetterOf(String generation) {
    return ofGeneration(DeadLetter.class, DeadLetter::getGeneration, generation);
  }

  /** Matches Avro records of one type written by one generation; anything else does not match. */
  private static <T> Predicate<byte[]> ofGeneration(
      Class<T> type, java.util.function.Function<T, String> generationOf, String generation) {
    SpecificDatumReader<T> reader = new SpecificDatumReader<>(type);
    return bytes -> {
      try {
        return generation.equals(
            generationOf.apply(reader.read(null, DecoderFactory.get().binaryDecoder(bytes, null))));
      } catch (IOException | RuntimeException e) {
        return false;
      }
    };
  }

  @Override
  public void close() {
    consumer.close();
  }
}
