package dev.tally.cli.stack;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The local stack of {@code ./tally stack}: a Kafka broker (KRaft, own JVM), PostgreSQL 17
 * (embedded binaries, {@code max_prepared_transactions} set) and a Flink session cluster (a
 * JobManager and two TaskManager JVMs, web UI). Everything lives under one folder; {@code down}
 * stops only what {@code up} started.
 *
 * <p>Two TaskManagers of four slots each: the jobs fit on either one, so when one is lost its tasks
 * restart at once in the other's free slots instead of waiting for a replacement JVM to start and
 * register (docs/decisions.md 27). Blue/green upgrades still fit (two jobs of parallelism 2).
 */
public final class LocalStack {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Prometheus endpoints of the JobManager and TaskManagers (first free port of the range each).
   */
  public static final String PROMETHEUS_PORTS = "19249-19259";

  private final StackLayout layout;
  private final Path home;
  private final PrintStream out;
  private final LocalKafka kafka;
  private final ManagedProcess jobManager;
  private final ManagedProcess capture;
  private final LocalPostgres postgres;

  /** Resource ids of the TaskManagers: also their process names, log files and REST ids. */
  static final List<String> TASK_MANAGERS = List.of("flink-taskmanager", "flink-taskmanager-2");

  private final List<ManagedProcess> taskManagers;

  public LocalStack(StackLayout layout, Path home, PrintStream out) {
    this.layout = layout;
    this.home = home;
    this.out = out;
    this.postgres = new LocalPostgres(layout);
    this.kafka = new LocalKafka(layout, home);
    this.jobManager = new ManagedProcess(layout, "flink-jobmanager");
    this.capture = new ManagedProcess(layout, "capture");
    this.taskManagers =
        TASK_MANAGERS.stream().map(name -> new ManagedProcess(layout, name)).toList();
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
    return kafka.isRunning()
        && jobManager.isRunning(layout)
        && taskManagersRunning()
        && postgres.isRunning()
        && capture.isRunning(layout);
  }

  /** Starts the parts that are not running; parts this stack already runs are kept. */
  public void up() throws Exception {
    if (isUp()) {
      out.println("stack is already up in " + layout.dir());
      return;
    }
    boolean postgresUp = postgres.isRunning();
    boolean kafkaUp = kafka.isRunning();
    boolean flinkUp = jobManager.isRunning(layout) && taskManagersRunning();
    boolean captureUp = capture.isRunning(layout);
    if (!flinkUp) {
      // a half-running Flink cluster is restarted whole
      for (ManagedProcess taskManager : taskManagers) {
        taskManager.stop(layout, Duration.ofSeconds(20));
      }
      jobManager.stop(layout, Duration.ofSeconds(20));
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
      startFlink();
    }
    out.printf("  flink      up, web UI %s%n", layout.flinkRestUrl());
    if (!captureUp) {
      dev.tally.cli.demo.Topics.ensure(layout.kafkaBootstrap(), 2);
      startCapture();
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

  // ------------------------------------------------------------------ capture

  /**
   * The PostHog-compatible capture endpoint in its own JVM (its jar and classpath, nothing of
   * Flink): local tokens {@code phc_local_<project>} on, plus the stack's token file.
   */
  private void startCapture() throws Exception {
    Path tokens = layout.captureTokenFile();
    Files.createDirectories(tokens.getParent());
    if (!Files.exists(tokens)) {
      Files.writeString(
          tokens,
          "# TOKEN=PROJECT lines for the capture endpoint (read again when this file changes);\n"
              + "# phc_local_<project> maps to <project> unless a line here says otherwise.\n");
    }
    Path log4j = layout.dir().resolve("capture/log4j2.properties");
    Files.writeString(
        log4j,
        "rootLogger.level = WARN\nrootLogger.appenderRef.f.ref = f\nappender.f.type = File\n"
            + "appender.f.name = f\nappender.f.fileName = "
            + layout.logs().resolve("capture.log")
            + "\nappender.f.layout.type = PatternLayout\n"
            + "appender.f.layout.pattern = %d %-5p %c{1} - %m%n\n"
            + "logger.c.name = dev.tally.capture\nlogger.c.level = INFO\n");
    List<String> command =
        new ArrayList<>(
            List.of(
                java(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:+ExitOnOutOfMemoryError", // a dead producer thread must not leave a zombie
                ManagedProcess.marker(layout),
                "-Dlog4j2.configurationFile=" + log4j,
                "-cp",
                captureJar() + File.pathSeparator + classpath("capture"),
                "dev.tally.capture.CaptureMain",
                "--host",
                "localhost",
                "--port",
                Integer.toString(layout.capturePort()),
                "--bootstrap-servers",
                layout.kafkaBootstrap(),
                "--topic",
                "events_raw",
                "--token-file",
                tokens.toString(),
                "--local-tokens"));
    capture.start(command, Map.of(), layout.dir());
    waitFor(
        "the capture endpoint", capture, () -> restGetAt(layout.captureUrl(), "/_health") != null);
  }

  private String captureJar() throws IOException {
    try (var files = Files.list(home.resolve("capture/target"))) {
      return files
          .filter(f -> f.getFileName().toString().matches("tally-capture-.*\\.jar"))
          .filter(f -> !f.getFileName().toString().contains("-tests"))
          .findFirst()
          .orElseThrow(
              () -> new IOException("missing capture/target/tally-capture-*.jar: build first"))
          .toString();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("missing capture/target: build first (./mvnw -DskipTests package)");
    }
  }

  /**
   * Adds {@code TOKEN=PROJECT} mappings to the capture endpoint's token file (the running endpoint
   * reads it again within a second). A token already mapped is remapped.
   */
  public void addCaptureTokens(Map<String, String> mappings) throws IOException {
    if (mappings.isEmpty()) {
      return;
    }
    Path file = layout.captureTokenFile();
    Files.createDirectories(file.getParent());
    java.util.Properties p = new java.util.Properties();
    if (Files.exists(file)) {
      try (var r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      }
    }
    mappings.forEach(p::setProperty);
    // written beside and moved into place: the running endpoint never reads half a file
    Path next = file.resolveSibling(file.getFileName() + ".next");
    try (var w = Files.newBufferedWriter(next, StandardCharsets.UTF_8)) {
      p.store(w, "TOKEN=PROJECT for the capture endpoint (./tally stack up --capture-token)");
    }
    Files.move(
        next,
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  // ------------------------------------------------------------------ Flink

  private Path flinkConf() {
    return layout.dir().resolve("flink/conf");
  }

  private void startFlink() throws Exception {
    Path conf = flinkConf();
    Files.createDirectories(conf);
    Path checkpoints = layout.dir().resolve("flink/checkpoints").toAbsolutePath();
    Path savepoints = layout.dir().resolve("flink/savepoints").toAbsolutePath();
    Files.createDirectories(checkpoints);
    Files.createDirectories(savepoints);
    String opens = String.join(" ", FlinkJvm.OPENS);
    Files.writeString(
        conf.resolve("config.yaml"),
        String.join(
            "\n",
            "# Flink session cluster of the local Tally stack (written by ./tally stack up)",
            "jobmanager.rpc.address: localhost",
            "jobmanager.rpc.port: " + layout.flinkRpcPort(),
            "jobmanager.bind-host: localhost",
            "taskmanager.bind-host: localhost",
            "taskmanager.host: localhost",
            "rest.address: localhost",
            "rest.bind-address: localhost",
            "rest.port: " + layout.flinkRestPort(),
            "jobmanager.memory.process.size: 900m",
            "taskmanager.memory.process.size: 1700m",
            // 4 slots: a blue/green upgrade runs two generations (parallelism 2 each) side by side
            "taskmanager.numberOfTaskSlots: 4",
            "parallelism.default: 2",
            // each job spread over both TaskManagers, with free slots on each for the other's
            // share: after a TaskManager is lost, the job restarts on the survivor, whose JVM has
            // run the job's code already (docs/decisions.md 29)
            "taskmanager.load-balance.mode: SLOTS",
            "state.backend.type: rocksdb",
            "state.backend.incremental: true",
            "state.backend.rocksdb.log.dir: "
                + layout.dir().resolve("flink/tmp/rocksdb-logs").toAbsolutePath(),
            "execution.checkpointing.dir: file://" + checkpoints,
            "execution.checkpointing.savepoint-dir: file://" + savepoints,
            "execution.checkpointing.num-retained: 3",
            "execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION",
            "restart-strategy.type: exponential-delay",
            "restart-strategy.exponential-delay.initial-backoff: 1s",
            "restart-strategy.exponential-delay.max-backoff: 30s",
            // a lost TaskManager is noticed in seconds, not the default 50 s (docs/decisions.md)
            "heartbeat.interval: 1000",
            "heartbeat.timeout: 15000",
            "web.submit.enable: true",
            "metrics.reporter.prom.factory.class: org.apache.flink.metrics.prometheus.PrometheusReporterFactory",
            "metrics.reporter.prom.port: " + PROMETHEUS_PORTS,
            "web.upload.dir: " + layout.dir().resolve("flink/uploads").toAbsolutePath(),
            "io.tmp.dirs: " + layout.dir().resolve("flink/tmp").toAbsolutePath(),
            "env.java.opts.all: \"" + opens + "\"",
            ""));
    Files.createDirectories(layout.dir().resolve("flink/uploads"));
    Files.createDirectories(layout.dir().resolve("flink/tmp"));
    Files.writeString(
        conf.resolve("log4j.properties"),
        "rootLogger.level = INFO\nrootLogger.appenderRef.f.ref = f\nappender.f.type = File\nappender.f.name = f\n"
            + "appender.f.fileName = ${sys:log.file}\nappender.f.layout.type = PatternLayout\n"
            + "appender.f.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %c{1} - %m%n\n"
            + "logger.kafka.name = org.apache.kafka\nlogger.kafka.level = WARN\n");

    startJobManager();
    for (ManagedProcess taskManager : taskManagers) {
      startTaskManager(taskManager);
    }
  }

  private boolean taskManagersRunning() {
    return taskManagers.stream().allMatch(tm -> tm.isRunning(layout));
  }

  private void startJobManager() throws Exception {
    startFlinkProcess(
        jobManager,
        "GET_JM_RESOURCE_PARAMS",
        "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
        "jobmanager");
    waitFor("Flink JobManager", jobManager, () -> restGet("/overview") != null);
  }

  private void startTaskManager(ManagedProcess taskManager) throws Exception {
    // a replacement has the lost TaskManager's resource id, which the JobManager may still list
    String lost = rpcAddress(taskManager);
    startFlinkProcess(
        taskManager,
        "GET_TM_RESOURCE_PARAMS",
        "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
        taskManager.name().substring("flink-".length()));
    awaitTaskManagerRegistered(taskManager, lost, "Flink TaskManager " + taskManager.name());
  }

  /**
   * Waits until the JobManager lists this TaskManager at an RPC address other than {@code lost}
   * (null: any). Resource ids are stable, so the address tells a replacement from the lost one.
   */
  private void awaitTaskManagerRegistered(ManagedProcess taskManager, String lost, String what)
      throws Exception {
    waitFor(
        what,
        taskManager,
        () -> {
          String now = rpcAddress(taskManager);
          return now != null && !now.equals(lost);
        });
  }

  /** The RPC address the JobManager lists for a TaskManager; null if not listed or no answer. */
  private String rpcAddress(ManagedProcess taskManager) {
    String list = restGet("/taskmanagers");
    if (list == null) {
      return null;
    }
    try {
      for (JsonNode tm : JSON.readTree(list).path("taskmanagers")) {
        if (taskManager.name().equals(tm.path("id").asText())) {
          return tm.path("path").asText();
        }
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * The TaskManager with the most slots in use (the one running the jobs), from the JobManager's
   * REST API; the first one when none is busy.
   */
  private ManagedProcess busiestTaskManager() throws IOException {
    String list = restGet("/taskmanagers");
    if (list == null) {
      throw new IOException("Flink REST API is not answering at " + layout.flinkRestUrl());
    }
    ManagedProcess busiest = taskManagers.get(0);
    int mostUsed = -1;
    for (JsonNode tm : JSON.readTree(list).path("taskmanagers")) {
      int used = tm.path("slotsNumber").asInt() - tm.path("freeSlots").asInt();
      for (ManagedProcess candidate : taskManagers) {
        if (candidate.name().equals(tm.path("id").asText()) && used > mostUsed) {
          busiest = candidate;
          mostUsed = used;
        }
      }
    }
    return busiest;
  }

  private void startFlinkProcess(
      ManagedProcess process, String resourceQuery, String mainClass, String role)
      throws Exception {
    String cp = classpath("stack/flink-cluster");
    List<String> resources = bashJavaUtils(cp, resourceQuery);
    List<String> command = new ArrayList<>();
    command.add(java());
    command.addAll(List.of(resources.get(0).split(" ")));
    command.addAll(FlinkJvm.OPENS);
    command.add(ManagedProcess.marker(layout));
    command.add("-Dlog.file=" + layout.logs().resolve("flink-" + role + ".log").toAbsolutePath());
    command.add(
        "-Dlog4j.configurationFile=" + flinkConf().resolve("log4j.properties").toAbsolutePath());
    command.addAll(
        List.of("-cp", cp, mainClass, "--configDir", flinkConf().toAbsolutePath().toString()));
    if (resources.size() > 1) {
      for (String token : resources.get(1).split(" ")) {
        if (!token.isBlank()) {
          command.add(token);
        }
      }
    }
    if (TASK_MANAGERS.contains(process.name())) {
      // a stable id: the REST API names the TaskManager as the stack does
      command.addAll(List.of("-D", "taskmanager.resource-id=" + process.name()));
    }
    process.start(command, Map.of(), layout.dir());
  }

  /** Asks Flink's own memory calculator for the JVM and dynamic options of a process. */
  private List<String> bashJavaUtils(String cp, String query) throws Exception {
    Process p =
        new ProcessBuilder(
                java(),
                "-cp",
                cp,
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                query,
                "--configDir",
                flinkConf().toAbsolutePath().toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    List<String> results = new ArrayList<>();
    for (String line : output.split("\n")) {
      if (line.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")) {
        results.add(line.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).strip());
      }
    }
    if (results.isEmpty()) {
      throw new IOException(
          "Flink memory configuration failed: " + output.lines().reduce((a, b) -> b).orElse(""));
    }
    return results;
  }

  String restGet(String path) {
    return restGetAt(layout.flinkRestUrl(), path);
  }

  private static String restGetAt(String base, String path) {
    try {
      HttpResponse<String> r =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofSeconds(2))
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create(base + path))
                      .timeout(Duration.ofSeconds(3))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  // ------------------------------------------------------------------ common

  private void waitFor(String what, ManagedProcess process, ManagedProcess.Check check)
      throws Exception {
    ManagedProcess.waitFor(what, process, check, layout.logs());
  }

  private String classpath(String module) throws IOException {
    return ManagedProcess.classpath(home, module);
  }

  private static String java() {
    return ManagedProcess.java();
  }

  // ------------------------------------------------------------------ faults (./tally drill)

  /**
   * kill -9 of a TaskManager running the jobs (the one with most slots in use; each job runs on
   * both), then a new one in its place (as a supervisor would). The jobs restart in the other
   * TaskManager's free slots meanwhile.
   */
  public void killAndRestartTaskManager() throws Exception {
    killTaskManager().start();
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
    ManagedProcess victim = busiestTaskManager();
    victim.kill(layout);
    return () -> startTaskManager(victim);
  }

  /** kill -9 of the JobManager (no HA here: its jobs are gone), then a new one. */
  public void killAndRestartJobManager() throws Exception {
    jobManager.kill(layout);
    startJobManager();
    for (ManagedProcess taskManager : taskManagers) {
      awaitTaskManagerRegistered(taskManager, null, "Flink TaskManager re-registration");
    }
  }

  /**
   * SIGSTOP the TaskManager running the jobs for a while (a stalled process: checkpoints time out),
   * then SIGCONT.
   */
  public void pauseTaskManager(Duration pause) throws Exception {
    long pid =
        busiestTaskManager()
            .handle(layout)
            .orElseThrow(() -> new IOException("TaskManager is not running"))
            .pid();
    new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor();
    try {
      Thread.sleep(pause.toMillis());
    } finally {
      new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
    }
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
    Path dir = layout.dir().resolve("flink/checkpoints").resolve(jobId);
    if (!Files.isDirectory(dir)) {
      return java.util.Optional.empty();
    }
    try (var files = Files.list(dir)) {
      return files
          .filter(p -> p.getFileName().toString().startsWith("chk-"))
          .filter(p -> Files.exists(p.resolve("_metadata")))
          .max(
              java.util.Comparator.comparingLong(
                  p -> Long.parseLong(p.getFileName().toString().substring(4))));
    }
  }

  /** Stops everything this stack started. Returns what was stopped. */
  public List<String> down() throws Exception {
    List<String> stopped = new ArrayList<>();
    if (capture.stop(layout, Duration.ofSeconds(15))) {
      stopped.add("capture"); // first: it answers in-flight requests, then stops taking more
    }
    for (ManagedProcess taskManager : taskManagers) {
      if (taskManager.stop(layout, Duration.ofSeconds(20))) {
        stopped.add(taskManager.name());
      }
    }
    if (jobManager.stop(layout, Duration.ofSeconds(20))) {
      stopped.add("flink-jobmanager");
    }
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
    rows.add(
        row(
            "flink-jobmanager",
            jobManager.isRunning(layout) && restGet("/overview") != null,
            layout.flinkRestUrl()));
    for (ManagedProcess taskManager : taskManagers) {
      rows.add(row(taskManager.name(), taskManager.isRunning(layout), "slots: 4"));
    }
    rows.add(
        row(
            "capture",
            capture.isRunning(layout) && restGetAt(layout.captureUrl(), "/_health") != null,
            layout.captureUrl()));
    return rows;
  }

  private static String[] row(String name, boolean up, String address) {
    return new String[] {name, up ? "up" : "down", address};
  }
}
