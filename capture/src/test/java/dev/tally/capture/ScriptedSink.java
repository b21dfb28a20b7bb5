package dev.tally.capture;

import dev.tally.avro.RawEvent;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;

/**
 * A strict fake of the sink: every send must have been scripted (acknowledge, fail, or hold until
 * the test completes it); an unscripted send fails the test's request with 500 and is recorded as a
 * violation the test checks.
 */
final class ScriptedSink implements EventSink {
  private final Deque<Function<List<Record>, CompletableFuture<Void>>> script = new ArrayDeque<>();
  final List<List<Record>> sent = new ArrayList<>();
  final List<String> violations = new ArrayList<>();

  synchronized ScriptedSink acknowledge() {
    script.add(r -> CompletableFuture.completedFuture(null));
    return this;
  }

  synchronized ScriptedSink fail() {
    script.add(
        r ->
            CompletableFuture.failedFuture(
                new Unavailable("scripted: broker down", new RuntimeException("down"))));
    return this;
  }

  synchronized ScriptedSink throwOnNextSend() {
    script.add(
        r -> {
          throw new IllegalStateException("scripted: a bug in the sink");
        });
    return this;
  }

  synchronized CompletableFuture<Void> hold() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    script.add(r -> f);
    return f;
  }

  @Override
  public synchronized CompletableFuture<Void> send(List<Record> records) {
    sent.add(records);
    Function<List<Record>, CompletableFuture<Void>> next = script.poll();
    if (next == null) {
      violations.add("unscripted send of " + records.size() + " record(s)");
      return CompletableFuture.failedFuture(new IllegalStateException("unscripted send"));
    }
    return next.apply(records);
  }

  synchronized List<Record> all() {
    return sent.stream().flatMap(List::stream).toList();
  }

  static RawEvent decode(Record r) {
    try {
      return new SpecificDatumReader<>(RawEvent.class)
          .read(null, DecoderFactory.get().binaryDecoder(r.value(), null));
    } catch (IOException e) {
      throw new AssertionError("not a RawEvent: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {}
}
