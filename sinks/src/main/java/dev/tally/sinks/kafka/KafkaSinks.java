package dev.tally.sinks.kafka;

import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import java.time.Duration;
import java.util.Properties;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * Exactly-once Kafka sinks for Tally's output topics. Each uses Kafka transactions committed on
 * checkpoint completion, with a transactional-id prefix that includes the generation so that two
 * generations never fence each other. Consumers must read with {@code
 * isolation.level=read_committed}.
 */
public final class KafkaSinks {
  private KafkaSinks() {}

  /**
   * @param transactionTimeout must be ≤ the broker's {@code transaction.max.timeout.ms} and well
   *     above checkpoint interval + restart time (checked by {@link KafkaTransactionChecks})
   */
  public record Settings(
      String bootstrapServers,
      String generation,
      Duration transactionTimeout,
      String compression,
      boolean producerMetrics) {}

  public static KafkaSink<EnrichedRecord> enriched(Settings s, String topic) {
    return sink(
        s,
        topic,
        "enriched",
        new AvroSerializationSchemas.Enriched(s.generation()),
        new AvroSerializationSchemas.PersonKey());
  }

  public static KafkaSink<EnrichedRecord> tooLate(Settings s, String topic) {
    return sink(
        s,
        topic,
        "late",
        new AvroSerializationSchemas.TooLate(),
        new AvroSerializationSchemas.PersonKey());
  }

  public static KafkaSink<DeadLetterRecord> deadLetters(Settings s, String topic) {
    return sink(s, topic, "dlq", new AvroSerializationSchemas.DeadLetter(s.generation()), null);
  }

  /** Header on every record of Tally's topics naming the generation that wrote it. */
  public static final String GENERATION_HEADER = "tally.generation";

  /**
   * Every output record names its generation in a header, also the too-late records whose value is
   * the raw event (so a backfill can read them back as input): overlapping generations (blue and
   * green, a backfill) write the same events, and a consumer tells their copies apart by it.
   */
  static final class GenerationHeader
      implements org.apache.flink.connector.kafka.sink.HeaderProvider<Object> {
    private final String generation;

    GenerationHeader(String generation) {
      this.generation = generation;
    }

    @Override
    public org.apache.kafka.common.header.Headers getHeaders(Object record) {
      return new org.apache.kafka.common.header.internals.RecordHeaders(
          new org.apache.kafka.common.header.Header[] {
            new org.apache.kafka.common.header.internals.RecordHeader(
                GENERATION_HEADER, generation.getBytes(java.nio.charset.StandardCharsets.UTF_8))
          });
    }
  }

  private static <T> KafkaSink<T> sink(
      Settings s,
      String topic,
      String name,
      SerializationSchema<T> value,
      SerializationSchema<T> key) {
    Properties producer = new Properties();
    producer.setProperty(
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
        Long.toString(s.transactionTimeout().toMillis()));
    producer.setProperty(ProducerConfig.LINGER_MS_CONFIG, "20");
    producer.setProperty(ProducerConfig.COMPRESSION_TYPE_CONFIG, s.compression());
    // Each transactional producer registers its Kafka client metrics with Flink and removes them
    // when it is recycled; switching that off made no measurable difference (docs/performance.md).
    producer.setProperty("register.producer.metrics", Boolean.toString(s.producerMetrics()));
    org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchemaBuilder<T> serializer =
        KafkaRecordSerializationSchema.<T>builder()
            .setTopic(topic)
            .setValueSerializationSchema(value);
    if (key != null) {
      serializer.setKeySerializationSchema(key);
    }
    serializer.setHeaderProvider(new GenerationHeader(s.generation()));
    return KafkaSink.<T>builder()
        .setBootstrapServers(s.bootstrapServers())
        .setRecordSerializer(serializer.build())
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix("tally-" + s.generation() + "-" + name)
        .setKafkaProducerConfig(producer)
        .build();
  }
}
