package dev.tally.cli.demo;

import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where generated traffic goes — straight into Kafka ({@link TrafficProducer}) or through the
 * capture endpoint as a PostHog SDK would ({@link CaptureTraffic}) — counting what it meant to
 * send, by kind, so the result can be checked against it.
 */
public interface TrafficSink extends AutoCloseable {
  void send(GeneratedEvent e);

  /** Returns once everything sent so far is acknowledged. */
  void flush();

  long sent(GeneratedEvent.Kind kind);

  @Override
  void close();

  /**
   * Sends {@code count} events as fast as the broker takes them (or at {@code ratePerSecond} when
   * positive), printing progress; stops early when {@code stop} is set.
   */
  default long sendAll(
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
    flush();
    return n;
  }
}
