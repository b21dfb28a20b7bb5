package dev.tally.sinks.kafka;

import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;

/**
 * Kafka keys and values of Tally's output topics (concrete classes: Flink can't type lambdas here).
 */
final class AvroSerializationSchemas {
  private AvroSerializationSchemas() {}

  /** Key {@code project:distinct_id}: a person's events stay in order within a partition. */
  static final class PersonKey implements SerializationSchema<EnrichedRecord> {
    @Override
    public byte[] serialize(EnrichedRecord r) {
      return (r.event.project + ":" + r.event.distinctId).getBytes(StandardCharsets.UTF_8);
    }
  }

  static final class Enriched implements SerializationSchema<EnrichedRecord> {
    private final String generation;

    Enriched(String generation) {
      this.generation = generation;
    }

    @Override
    public byte[] serialize(EnrichedRecord r) {
      return AvroCodec.encode(AvroCodec.toAvro(r, generation));
    }
  }

  static final class TooLate implements SerializationSchema<EnrichedRecord> {
    @Override
    public byte[] serialize(EnrichedRecord r) {
      return AvroCodec.encode(AvroCodec.toRaw(r.event));
    }
  }

  static final class DeadLetter implements SerializationSchema<DeadLetterRecord> {
    private final String generation;

    DeadLetter(String generation) {
      this.generation = generation;
    }

    @Override
    public byte[] serialize(DeadLetterRecord d) {
      return AvroCodec.encode(AvroCodec.toAvro(d, generation));
    }
  }
}
