package dev.tally.capture;

import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The raw topic through an idempotent producer with {@code acks=all}: a record counts as written
 * only when every in-sync replica has it, and a retry inside the producer never duplicates it.
 * Every wait is bounded below the SDKs' request timeouts (posthog-js and posthog-node give up after
 * 10 s), so a Kafka that is down or full is answered 503 in time for the client to retry.
 */
public final class KafkaEventSink implements EventSink {
  /** Longest a record may wait for its acknowledgement before the request is answered 503. */
  static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(8);

  /** Longest a send may block on metadata or a full buffer. */
  static final Duration MAX_BLOCK = Duration.ofSeconds(1);

  /** Over PostHog's ~1 MB per event, with room for the key and headers. */
  static final int MAX_REQUEST_BYTES = 1_100_000;

  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;

  public KafkaEventSink(String bootstrapServers, String topic) {
    this.topic = topic;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000);
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) DELIVERY_TIMEOUT.toMillis());
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, MAX_BLOCK.toMillis());
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, MAX_REQUEST_BYTES);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 64L * 1024 * 1024);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "tally-capture");
    this.producer = new KafkaProducer<>(p);
  }

  @Override
  public CompletableFuture<Void> send(List<Record> records) {
    CompletableFuture<Void> all = new CompletableFuture<>();
    if (records.isEmpty()) {
      all.complete(null);
      return all;
    }
    AtomicInteger pending = new AtomicInteger(records.size());
    AtomicReference<Exception> failure = new AtomicReference<>();
    for (Record r : records) {
      if (failure.get() != null) {
        // one failed send (metadata or buffer wait over MAX_BLOCK) fails the request: the rest
        // are not tried, so a request never waits MAX_BLOCK once per record
        if (pending.decrementAndGet() == 0) {
          finish(all, failure.get());
        }
        continue;
      }
      try {
        producer.send(
            new ProducerRecord<>(topic, r.key(), r.value()),
            (metadata, e) -> {
              if (e != null) {
                failure.compareAndSet(null, e);
              }
              if (pending.decrementAndGet() == 0) {
                finish(all, failure.get());
              }
            });
      } catch (RuntimeException e) { // metadata or buffer wait over MAX_BLOCK, producer closed
        failure.compareAndSet(null, e);
        if (pending.decrementAndGet() == 0) {
          finish(all, failure.get());
        }
      }
    }
    return all;
  }

  private static void finish(CompletableFuture<Void> all, Exception failure) {
    if (failure == null) {
      all.complete(null);
    } else {
      all.completeExceptionally(
          new Unavailable(
              "Kafka did not acknowledge the events: "
                  + failure.getClass().getSimpleName()
                  + ": "
                  + failure.getMessage(),
              failure));
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
