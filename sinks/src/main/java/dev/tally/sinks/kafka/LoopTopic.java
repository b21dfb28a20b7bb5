package dev.tally.sinks.kafka;

import dev.tally.operators.persons.merge.LoopRecord;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaPartitioner;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The person protocol's loop topic (docs/scale-out.md §4, §14): written exactly-once in the job's
 * checkpoints and read back {@code read_committed} by the same job. Key: the receiver's key; value:
 * one byte naming the receiving operator, then the message's bytes. A message goes to the partition
 * of its receiver's key, so the messages from one key to another stay in one partition, in order,
 * also across a rescale — the FIFO the protocol relies on. The partition count must not change
 * while the job runs.
 */
public final class LoopTopic {
  private LoopTopic() {}

  /** The loop topic of a generation: each generation has its own (§4). */
  public static String name(String prefix, String generation) {
    return prefix + "_" + generation;
  }

  public static KafkaSink<LoopRecord> sink(KafkaSinks.Settings s, String topic) {
    java.util.Properties producer = new java.util.Properties();
    producer.setProperty(
        ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
        Long.toString(s.transactionTimeout().toMillis()));
    producer.setProperty(ProducerConfig.LINGER_MS_CONFIG, "5");
    return KafkaSink.<LoopRecord>builder()
        .setBootstrapServers(s.bootstrapServers())
        .setRecordSerializer(
            KafkaRecordSerializationSchema.<LoopRecord>builder()
                .setTopic(topic)
                .setKeySerializationSchema(new Key())
                .setValueSerializationSchema(new Value())
                .setPartitioner(new BySender())
                .setHeaderProvider(new EpochHeader())
                .build())
        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
        .setTransactionalIdPrefix("tally-" + s.generation() + "-loop")
        .setKafkaProducerConfig(producer)
        .build();
  }

  /** The Kafka header carrying a loop message's {@link LoopRecord#epoch} (8 bytes, big-endian). */
  public static final String EPOCH_HEADER = "tally-epoch";

  static final class EpochHeader
      implements org.apache.flink.connector.kafka.sink.HeaderProvider<LoopRecord> {
    @Override
    public org.apache.kafka.common.header.Headers getHeaders(LoopRecord r) {
      return epochHeaders(r.epoch);
    }
  }

  static org.apache.kafka.common.header.Headers epochHeaders(long epoch) {
    return new org.apache.kafka.common.header.internals.RecordHeaders()
        .add(EPOCH_HEADER, java.nio.ByteBuffer.allocate(Long.BYTES).putLong(epoch).array());
  }

  /** The epoch a loop record was stamped with, or null if it has none (an older Tally wrote it). */
  static Long epochOf(org.apache.kafka.common.header.Headers headers) {
    org.apache.kafka.common.header.Header h = headers.lastHeader(EPOCH_HEADER);
    if (h == null || h.value() == null || h.value().length != Long.BYTES) {
      return null;
    }
    return java.nio.ByteBuffer.wrap(h.value()).getLong();
  }

  static final class Key
      implements org.apache.flink.api.common.serialization.SerializationSchema<LoopRecord> {
    @Override
    public byte[] serialize(LoopRecord r) {
      return r.key.getBytes(StandardCharsets.UTF_8);
    }
  }

  static final class Value
      implements org.apache.flink.api.common.serialization.SerializationSchema<LoopRecord> {
    @Override
    public byte[] serialize(LoopRecord r) {
      return value(r);
    }
  }

  static byte[] value(LoopRecord r) {
    byte[] v = new byte[r.message.length + 1];
    v[0] = r.to;
    System.arraycopy(r.message, 0, v, 1, r.message.length);
    return v;
  }

  static LoopRecord read(byte[] key, byte[] value) {
    if (key == null || value == null || value.length < 2) {
      throw new IllegalStateException(
          "a record in the persons loop topic that Tally did not write (empty key or value): only"
              + " the job may write to its loop topic");
    }
    return new LoopRecord(
        value[0],
        new String(key, StandardCharsets.UTF_8),
        Arrays.copyOfRange(value, 1, value.length));
  }

  /** Reads the loop topic back into the job. */
  public static KafkaRecordDeserializationSchema<LoopRecord> deserializer() {
    return new KafkaRecordDeserializationSchema<>() {
      @Override
      public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<LoopRecord> out) {
        LoopRecord r = read(record.key(), record.value());
        Long epoch = epochOf(record.headers());
        r.epoch = epoch == null ? 0 : epoch;
        out.collect(r);
      }

      @Override
      public TypeInformation<LoopRecord> getProducedType() {
        return TypeInformation.of(LoopRecord.class);
      }
    };
  }

  /** The sender's key group decides the partition, as key groups map to subtasks. */
  static final class BySender implements KafkaPartitioner<LoopRecord> {
    @Override
    public int partition(
        LoopRecord record, byte[] key, byte[] value, String topic, int[] partitions) {
      return partitions[(int) ((long) record.fromKeyGroup * partitions.length / record.keyGroups)];
    }
  }
}
