package dev.tally.cli.demo;

import dev.tally.cli.traffic.GeneratedEvent;
import java.util.EnumMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends generated traffic to {@code events_raw} with acks=all and idempotence, remembering what it
 * meant to send (valid, duplicate, invalid) so the result can be checked against it.
 */
public final class TrafficProducer implements TrafficSink {
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final Map<GeneratedEvent.Kind, Long> sent = new EnumMap<>(GeneratedEvent.Kind.class);

  public TrafficProducer(String bootstrap) {
    this(bootstrap, Topics.RAW);
  }

  public TrafficProducer(String bootstrap, String topic) {
    this.topic = topic;
    Properties p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
    producer = new KafkaProducer<>(p);
    for (GeneratedEvent.Kind k : GeneratedEvent.Kind.values()) {
      sent.put(k, 0L);
    }
  }

  /** Sends one record as it is (a user's file, {@code ./tally produce}); not counted by kind. */
  public java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata> send(
      byte[] key, byte[] value) {
    return producer.send(new ProducerRecord<>(topic, key, value));
  }

  @Override
  public void send(GeneratedEvent e) {
    producer.send(new ProducerRecord<>(topic, e.key(), e.avro()));
    sent.merge(e.kind(), 1L, Long::sum);
  }

  @Override
  public void flush() {
    producer.flush();
  }

  @Override
  public long sent(GeneratedEvent.Kind kind) {
    return sent.get(kind);
  }

  public long total() {
    return sent.values().stream().mapToLong(Long::longValue).sum();
  }

  @Override
  public void close() {
    producer.close();
  }
}
