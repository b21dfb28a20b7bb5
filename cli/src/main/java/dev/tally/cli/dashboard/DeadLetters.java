package dev.tally.cli.dashboard;

import dev.tally.avro.DeadLetter;
import dev.tally.sinks.kafka.AvroCodec;
import dev.tally.sinks.kafka.KafkaReaders;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The newest dead letters, read {@code read_committed} from the dead-letter topic (PostgreSQL keeps
 * only their number, per hour, in the ledger). Read-only: no consumer group, no commits.
 */
final class DeadLetters {
  private DeadLetters() {}

  /**
   * The newest {@code limit} dead letters of {@code generation} (null: every generation), newest
   * first, and the number of each reason among them.
   */
  static Map<String, Object> newest(
      String bootstrapServers, String topic, String generation, int limit) {
    Properties p = KafkaReaders.readCommitted(bootstrapServers);
    p.setProperty(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
    p.setProperty(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = KafkaReaders.consumer(p)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic, Duration.ofSeconds(3)).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      consumer.assign(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
      // a generation's dead letters may sit behind other generations': look back a few times more
      long back = generation == null ? limit : limit * 20L;
      for (TopicPartition tp : partitions) {
        consumer.seek(tp, Math.max(begin.get(tp), end.get(tp) - back));
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
      while (System.nanoTime() < deadline
          && partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> r : records) {
      DeadLetter d;
      try {
        d = AvroCodec.decode(r.value(), DeadLetter.class);
      } catch (Exception e) {
        continue; // not written by Tally: nothing to show
      }
      if (generation != null && !generation.equals(d.getGeneration().toString())) {
        continue;
      }
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("at", Instant.ofEpochMilli(r.timestamp()).toString());
      row.put("reason", d.getReason().toString());
      row.put("source", d.getSource().toString());
      row.put("generation", d.getGeneration().toString());
      rows.add(row);
    }
    rows.sort(Comparator.comparing((Map<String, Object> m) -> (String) m.get("at")).reversed());
    List<Object> newest = new ArrayList<>(rows.subList(0, Math.min(limit, rows.size())));
    Map<String, Object> reasons = new TreeMap<>();
    for (Object o : newest) {
      String reason = (String) ((Map<?, ?>) o).get("reason");
      reasons.merge(reason, 1L, (a, b) -> (Long) a + (Long) b);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("newest", newest);
    out.put("reasons", reasons);
    return out;
  }
}
