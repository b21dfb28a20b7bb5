package dev.tally.cli.stack;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The local stack of {@code ./tally stack}: a Kafka broker (KRaft, own JVM), PostgreSQL 17
 * (embedded binaries, {@code max_prepared_transactions} set) and a Flink session cluster (a
 * JobManager and two TaskManager JVMs, web UI). Everything lives under one folder; {@code down}
 * stops only what {@code up} started.
 *
 * <p>Each part is its own class ({@link LocalPostgres}, {@link LocalKafka}, {@link LocalFlink},
 * {@link LocalCapture}); this one starts them in order, stops them, reports their status and
 * injects the drill's faults.
 */
public final class LocalStack {

  /**
   * Prometheus endpoints of the JobManager and TaskManagers (first free port of the range each).
   */
  public static final String PROMETHEUS_PORTS = "19249-19259";

  private final StackLayout layout;
  private final Path home;
  private final PrintStream out;
  private final LocalKafka kafka;
  private final LocalFlink flink;
  private final LocalCapture capture;
  private final LocalPostgres postgres;

  public LocalStack(StackLayout layout, Path home, PrintStream out) {
    this.layout = layout;
    this.home = home;
    this.out = out;
    this.postgres = new LocalPostgres(layout);
    this.kafka = new LocalKafka(layout, home);
    this.flink = new LocalFlink(layout, home);
    this.capture = new LocalCapture(layout, home);
  }

  public StackLayout layout() {
    return layout;
  }

  /** A port the stack needs is taken by something else. */
  public static final class PortTakenException extends IOException {
    PortTakenException(String message) {
      super(message);
    }
  }

  public boolean isUp() {
    return kafka.isRunning() && flink.isRunning() && postgres.isRunning() && capture.isRunning();
  }

  /** Starts the parts that are not running; parts this stack already runs are kept. */
  public void up() throws Exception {
    if (isUp()) {
      out.println("stack is already up in " + layout.dir());
      return;
    }
    boolean postgresUp = postgres.isRunning();
    boolean kafkaUp = kafka.isRunning();
    boolean flinkUp = flink.isRunning();
    boolean captureUp = capture.isRunning();
    if (!flinkUp) {
      flink.stop(); // a half-running Flink cluster is restarted whole
    }
    Map<Integer, String> ports = new LinkedHashMap<>();
    if (!postgresUp) {
      ports.put(layout.postgresPort(), "PostgreSQL (--postgres-port)");
    }
    if (!kafkaUp) {
      ports.put(layout.kafkaPort(), "Kafka (--kafka-port)");
      ports.put(layout.kafkaControllerPort(), "Kafka controller (--kafka-port + 1)");
    }
    if (!flinkUp) {
      ports.put(layout.flinkRestPort(), "Flink web UI/REST (--flink-port)");
      ports.put(layout.flinkRpcPort(), "Flink RPC (--flink-rpc-port)");
    }
    if (!captureUp) {
      ports.put(layout.capturePort(), "the capture endpoint (--capture-port)");
    }
    checkPortsFree(ports);
    Files.createDirectories(layout.logs());
    layout.save();
    long t0 = System.nanoTime();
    if (!postgresUp) {
      postgres.start();
    }
    out.printf("  postgres   up on localhost:%d%n", layout.postgresPort());
    if (!kafkaUp) {
      kafka.start();
    }
    out.printf("  kafka      up on %s%n", layout.kafkaBootstrap());
    if (!flinkUp) {
      flink.start();
    }
    out.printf("  flink      up, web UI %s%n", layout.flinkRestUrl());
    if (!captureUp) {
      dev.tally.cli.demo.Topics.ensure(layout.kafkaBootstrap(), 2);
      capture.start();
    }
    out.printf("  capture    up on %s (PostHog SDKs: api_host)%n", layout.captureUrl());
    out.printf(
        "stack up in %.1f s (data and logs in %s)%n", (System.nanoTime() - t0) / 1e9, layout.dir());
  }

  private static void checkPortsFree(Map<Integer, String> ports) throws PortTakenException {
    List<String> taken = new ArrayList<>();
    ports.forEach(
        (port, what) -> {
          if (!ManagedProcess.isPortFree(port)) {
            taken.add(port + " for " + what);
          }
        });
    if (!taken.isEmpty()) {
      throw new PortTakenException(
          "port "
              + String.join(", ", taken)
              + " is already in use; stop what uses it or choose other ports");
    }
  }

  // ------------------------------------------------------------------ PostgreSQL

  public int migrate() throws SQLException {
    return postgres.migrate();
  }

  /** The read-only analyst login (SELECT on analytics.* only). */
  public Connection analyst() throws IOException, SQLException {
    return postgres.analyst();
  }

  /** The read-only auditor login (SELECT on tally.* and analytics.*), for ./tally audit. */
  public Connection auditor() throws Exception {
    return postgres.auditor();
  }

  /** The superuser, with its password from the secrets folder. */
  public Connection admin() throws SQLException {
    return postgres.admin();
  }

  /**
   * Adds {@code TOKEN=PROJECT} mappings to the capture endpoint's token file (the running endpoint
   * reads it again within a second). A token already mapped is remapped.
   */
  public void addCaptureTokens(Map<String, String> mappings) throws IOException {
    capture.addTokens(mappings);
  }

  // ------------------------------------------------------------------ faults (./tally drill)

  /**
   * kill -9 of a TaskManager running the jobs (the one with most slots in use; each job runs on
   * both), then a new one in its place (as a supervisor would). The jobs restart in the other
   * TaskManager's free slots meanwhile.
   */
  public void killAndRestartTaskManager() throws Exception {
    flink.killAndRestartTaskManager();
  }

  /** Starts a replacement TaskManager and waits until it registered. */
  public interface Replacement {
    void start() throws Exception;
  }

  /**
   * kill -9 of the TaskManager running the jobs; the caller starts its replacement (e.g. while it
   * measures how the jobs recover meanwhile).
   */
  public Replacement killTaskManager() throws Exception {
    return flink.killTaskManager();
  }

  /** kill -9 of the JobManager (no HA here: its jobs are gone), then a new one. */
  public void killAndRestartJobManager() throws Exception {
    flink.killAndRestartJobManager();
  }

  /**
   * SIGSTOP the TaskManager running the jobs for a while (a stalled process: checkpoints time out),
   * then SIGCONT.
   */
  public void pauseTaskManager(Duration pause) throws Exception {
    flink.pauseTaskManager(pause);
  }

  /** Graceful stop of the Kafka broker, a pause, and a start on the same data. */
  public void restartKafka(Duration down) throws Exception {
    kafka.stop();
    Thread.sleep(down.toMillis());
    kafka.start();
  }

  /** Fast shutdown of PostgreSQL, a pause, and a start on the same data. */
  public void restartPostgres(Duration down) throws Exception {
    postgres.stop();
    Thread.sleep(down.toMillis());
    postgres.start();
  }

  /** The newest completed checkpoint of a job on disk (retained after the JobManager died). */
  public java.util.Optional<Path> latestCheckpoint(String jobId) throws IOException {
    return flink.latestCheckpoint(jobId);
  }

  /** Stops everything this stack started. Returns what was stopped. */
  public List<String> down() throws Exception {
    List<String> stopped = new ArrayList<>();
    if (capture.stop()) {
      stopped.add("capture"); // first: it answers in-flight requests, then stops taking more
    }
    stopped.addAll(flink.stop());
    if (kafka.stop()) {
      stopped.add("kafka");
    }
    if (postgres.isRunning()) {
      postgres.stop();
      stopped.add("postgres");
    }
    return stopped;
  }

  /** One line per part: name, state, address. */
  public List<String[]> status() {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        row(
            "kafka",
            kafka.isRunning() && ManagedProcess.isListening(layout.kafkaPort()),
            layout.kafkaBootstrap()));
    rows.add(
        row(
            "postgres",
            postgres.isRunning() && ManagedProcess.isListening(layout.postgresPort()),
            "localhost:" + layout.postgresPort() + "/" + StackLayout.DATABASE));
    rows.addAll(flink.status());
    rows.add(row("capture", capture.isRunning() && capture.answers(), layout.captureUrl()));
    return rows;
  }

  static String[] row(String name, boolean up, String address) {
    return new String[] {name, up ? "up" : "down", address};
  }
}
