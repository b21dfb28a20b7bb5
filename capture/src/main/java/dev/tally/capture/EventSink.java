package dev.tally.capture;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Where captured events go: {@code events_raw} in production, a strict fake in tests. */
public interface EventSink extends AutoCloseable {
  /** One record of the raw topic: key {@code project:distinct_id} (or null) and the value. */
  record Record(byte[] key, byte[] value) {}

  /**
   * Hands the records to the store. The future completes when every one is durable (for Kafka:
   * acknowledged by all in-sync replicas), and exceptionally with {@link Unavailable} when any of
   * them cannot be made so now — the caller answers 503 and the client sends them again.
   */
  CompletableFuture<Void> send(List<Record> records);

  @Override
  void close();

  /** The store cannot take records now (down, slow, or its buffer full). */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
