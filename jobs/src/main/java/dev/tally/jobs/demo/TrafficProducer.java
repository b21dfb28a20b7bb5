package dev.tally.jobs.demo;

import dev.tally.jobs.traffic.GeneratedEvent;
import dev.tally.jobs.traffic.TrafficGenerator;
import java.io.PrintStream;
import java.util.EnumMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends generated traffic to {@code events_raw} with acks=all and idempotence, remembering what it
 * meant to send (valid, duplicate, invalid) so the result can be checked against it.
 */
public final class TrafficProducer implements AutoCloseable {
  private final KafkaProducer<byte[], byte[]> producer;
  private final String topic;
  private final Map<GeneratedEvent.Kind, Long> sent = new EnumMap<>(GeneratedEvent.Kind.class);

  public TrafficProducer(String bootstrap) {
    this(bootstrap, Topics.RAW);
  }

  public TrafficProducer(String bootstrap, String topic) {
    this.topic = topic;
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    p.put("linger.ms", "10");
    p.put("batch.size", "131072");
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

  public void send(GeneratedEvent e) {
    producer.send(new ProducerRecord<>(topic, e.key(), e.avro()));
    sent.merge(e.kind(), 1L, Long::sum);
  }

  /**
   * Sends {@code count} events as fast as the broker takes them (or at {@code ratePerSecond} when
   * positive), printing progress; stops early when {@code stop} is set.
   */
  public long sendAll(
      TrafficGenerator generator,
      long count,
      double ratePerSecond,
      AtomicBoolean stop,
      PrintStream out) {
    long started = System.nanoTime();
    long n = 0;
    long lastReport = started;
    while ((count < 0 || n < count) && !stop.get()) {
      send(generator.next());
      n++;
      if (ratePerSecond > 0) {
        long due = started + (long) (n * 1e9 / ratePerSecond);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          try {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
      if (out != null && System.nanoTime() - lastReport > 2_000_000_000L) {
        lastReport = System.nanoTime();
        out.printf("  produced %,d%s events%n", n, count > 0 ? String.format(" / %,d", count) : "");
      }
    }
    producer.flush();
    return n;
  }

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
