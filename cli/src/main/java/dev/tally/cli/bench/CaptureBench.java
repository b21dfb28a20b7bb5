package dev.tally.cli.bench;

import dev.tally.capture.CaptureServer;
import dev.tally.capture.KafkaEventSink;
import dev.tally.capture.TokenMap;
import dev.tally.cli.demo.CaptureTraffic;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.operators.json.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The capture phase of {@code ./tally bench}: the same events, in the same run, (A) through the
 * capture endpoint — gzip batches of 100 to {@code /batch/} from concurrent clients, answered only
 * after Kafka's acknowledgement — and (B) straight from one Kafka producer with the door's own
 * settings (acks=all, idempotent, lz4). A and B alternate three times; medians are reported as
 * {@code capture / producer} (target ≥ 0.5) with the request latency p50/p99 of the capture runs.
 */
final class CaptureBench {
  static final int BATCH = 100;

  /**
   * Concurrent clients. Each request waits for Kafka's acknowledgement (~10 ms here), so the door's
   * throughput is bounded by concurrency × batch / latency: 8 clients measured 0.24 of the
   * producer, latency-bound with the CPU not saturated. With 32 the two cores are saturated; 64 and
   * 128 gave no more events/s, only longer requests (p50 20 and 47 ms). Real deployments have many
   * SDK clients. They are {@link RawHttpClient}s: with the JDK's HttpClient the door measured 0.77
   * of the events/s it measures with these (docs/performance.md, capture).
   */
  static final int CLIENTS = 32;

  static final int ROUNDS = 3;

  record Result(double captureRate, double producerRate, double p50Millis, double p99Millis) {
    double ratio() {
      return captureRate / producerRate;
    }
  }

  private CaptureBench() {}

  static Result run(String bootstrap, String topic, int events, java.io.PrintStream log)
      throws Exception {
    TrafficGenerator g = new TrafficGenerator(7, Instant.now().minusSeconds(600), 1000, 5000);
    List<byte[]> bodies = new ArrayList<>();
    List<byte[][]> records = new ArrayList<>();
    Map<String, List<Object>> pending = new LinkedHashMap<>();
    int made = 0;
    while (made < events) {
      GeneratedEvent e = g.next();
      CaptureTraffic.PostHogEvent p = CaptureTraffic.toPostHog(e);
      if (p == null || e.kind() != GeneratedEvent.Kind.VALID) {
        continue;
      }
      made++;
      records.add(new byte[][] {e.key(), e.avro()});
      List<Object> batch = pending.computeIfAbsent(p.project(), k -> new ArrayList<>());
      batch.add(p.json());
      if (batch.size() == BATCH) {
        bodies.add(body(p.project(), batch));
        pending.remove(p.project());
      }
    }
    pending.forEach((project, batch) -> bodies.add(body(project, batch)));

    KafkaEventSink sink = new KafkaEventSink(bootstrap, topic);
    CaptureServer door =
        CaptureServer.start("127.0.0.1", 0, new TokenMap(null, Map.of(), true), sink);
    List<Double> capture = new ArrayList<>();
    List<Double> producer = new ArrayList<>();
    List<Double> latencies = new ArrayList<>();
    try {
      // unmeasured rounds of both: the first ones ran at a third of the next, and the JIT's
      // compiler threads still took 0.3-0.4 of the two cores in rounds of 200,000 events
      // (rounds are 600,000 events now; both still speed up from the first to the third)
      captureRound(door.port(), bodies, made, new ArrayList<>());
      producerRound(bootstrap, topic, records);
      captureRound(door.port(), bodies, made, new ArrayList<>());
      for (int round = 1; round <= ROUNDS; round++) {
        CpuShares.Snapshot c0 = CpuShares.take();
        double c = captureRound(door.port(), bodies, made, latencies);
        CpuShares.Snapshot c1 = CpuShares.take();
        double p = producerRound(bootstrap, topic, records);
        CpuShares.Snapshot p1 = CpuShares.take();
        capture.add(c);
        producer.add(p);
        log.printf(
            "  capture round %d: capture %,.0f events/s, producer %,.0f events/s (%.2f)%n",
            round, c, p, c / p);
        // where the two cores went: saturated in the capture rounds (the door's threads most),
        // not in the producer's, whose single sending thread is its limit
        log.printf(
            "    CPU, capture:  %s | this JVM's threads (cores): %s%n",
            Bench.cpuShares(CpuShares.between(c0, c1)),
            CpuShares.describeCores(CpuShares.cliThreads(c0, c1)));
        log.printf(
            "    CPU, producer: %s | this JVM's threads (cores): %s%n",
            Bench.cpuShares(CpuShares.between(c1, p1)),
            CpuShares.describeCores(CpuShares.cliThreads(c1, p1)));
      }
    } finally {
      door.close();
      sink.close();
    }
    double[] l = latencies.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return new Result(median(capture), median(producer), percentile(l, 0.50), percentile(l, 0.99));
  }

  private static double captureRound(
      int port, List<byte[]> bodies, int events, List<Double> latencies) throws Exception {
    List<byte[]> requests = new ArrayList<>(bodies.size());
    for (byte[] b : bodies) {
      requests.add(RawHttpClient.post(port, "/batch/", b));
    }
    AtomicInteger next = new AtomicInteger();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    List<Future<List<Double>>> done = new ArrayList<>();
    long t0 = System.nanoTime();
    for (int c = 0; c < CLIENTS; c++) {
      done.add(
          clients.submit(
              () -> {
                List<Double> mine = new ArrayList<>();
                try (RawHttpClient http = new RawHttpClient(port)) {
                  for (int i = next.getAndIncrement();
                      i < requests.size();
                      i = next.getAndIncrement()) {
                    long s = System.nanoTime();
                    int status = http.send(requests.get(i));
                    if (status != 200) {
                      throw new IOException("capture answered " + status);
                    }
                    mine.add((System.nanoTime() - s) / 1e6);
                  }
                }
                return mine;
              }));
    }
    try {
      for (Future<List<Double>> f : done) {
        latencies.addAll(f.get());
      }
    } finally {
      clients.shutdownNow();
    }
    return events / ((System.nanoTime() - t0) / 1e9);
  }

  private static double producerRound(String bootstrap, String topic, List<byte[][]> records)
      throws Exception {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      producer.partitionsFor(topic); // metadata outside the timing, as the door has it warm
      long t0 = System.nanoTime();
      List<Future<?>> acks = new ArrayList<>(records.size());
      for (byte[][] r : records) {
        acks.add(producer.send(new ProducerRecord<>(topic, r[0], r[1])));
      }
      for (Future<?> a : acks) {
        a.get();
      }
      return records.size() / ((System.nanoTime() - t0) / 1e9);
    }
  }

  private static byte[] body(String project, List<Object> events) {
    Map<String, Object> b = new LinkedHashMap<>();
    b.put("api_key", "phc_local_" + project);
    b.put("batch", events);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(Json.write(b).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  static double median(List<Double> v) {
    double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length == 0 ? Double.NaN : a[a.length / 2];
  }

  static double percentile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    return sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
  }

  static String describe(Result r) {
    return String.format(
        "capture %,.0f events/s, producer %,.0f events/s (medians of %d alternating rounds);"
            + " request latency p50 %.1f ms, p99 %.1f ms (batches of %d, %d clients)",
        r.captureRate(), r.producerRate(), ROUNDS, r.p50Millis(), r.p99Millis(), BATCH, CLIENTS);
  }
}
