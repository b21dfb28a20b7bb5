package dev.tally.cli.stack;

import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigConstants;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ConfigurationUtils;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.MemorySize;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.configuration.WebOptions;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;

/**
 * The local stack's Flink session cluster without flink-dist: a JobManager and two TaskManager JVMs
 * on the classpath of {@code stack/flink-cluster}, configured by a {@code config.yaml} this class
 * writes, their memory options from Flink's own calculator (BashJavaUtils).
 *
 * <p>Two TaskManagers of four slots each: the jobs fit on either one, so when one is lost its tasks
 * restart at once in the other's free slots instead of waiting for a replacement JVM to start and
 * register (docs/decisions.md 27). Blue/green upgrades still fit (two jobs of parallelism 2).
 */
public final class LocalFlink {
  /** Resource ids of the TaskManagers: also their process names, log files and REST ids. */
  static final List<String> TASK_MANAGERS = List.of("flink-taskmanager", "flink-taskmanager-2");

  private final StackLayout layout;
  private final Path home;
  private final ManagedProcess jobManager;
  private final List<ManagedProcess> taskManagers;

  public LocalFlink(StackLayout layout, Path home) {
    this.layout = layout;
    this.home = home;
    this.jobManager = new ManagedProcess(layout, "flink-jobmanager");
    this.taskManagers =
        TASK_MANAGERS.stream().map(name -> new ManagedProcess(layout, name)).toList();
  }

  /** The JobManager and every TaskManager run. */
  public boolean isRunning() {
    return jobManager.isRunning(layout)
        && taskManagers.stream().allMatch(tm -> tm.isRunning(layout));
  }

  /** Stops the TaskManagers, then the JobManager (SIGTERM, 20 s each); the names it stopped. */
  public List<String> stop() throws IOException {
    List<String> stopped = new ArrayList<>();
    for (ManagedProcess taskManager : taskManagers) {
      if (taskManager.stop(layout, Duration.ofSeconds(20))) {
        stopped.add(taskManager.name());
      }
    }
    if (jobManager.stop(layout, Duration.ofSeconds(20))) {
      stopped.add(jobManager.name());
    }
    return stopped;
  }

  /** One status row per JVM: name, up, address. */
  List<String[]> status() {
    List<String[]> rows = new ArrayList<>();
    rows.add(
        LocalStack.row(
            jobManager.name(), jobManager.isRunning(layout) && answers(), layout.flinkRestUrl()));
    for (ManagedProcess taskManager : taskManagers) {
      rows.add(LocalStack.row(taskManager.name(), taskManager.isRunning(layout), "slots: 4"));
    }
    return rows;
  }

  /** Writes the cluster's configuration and starts the JobManager, then the TaskManagers. */
  public void start() throws Exception {
    writeConfiguration();
    startJobManager();
    for (ManagedProcess taskManager : taskManagers) {
      startTaskManager(taskManager);
    }
  }

  /**
   * The session cluster's configuration, from Flink's own typed options: what a flink-dist {@code
   * config.yaml} would hold, for this stack's ports and folders.
   */
  Configuration configuration() {
    Path flink = layout.dir().resolve("flink").toAbsolutePath();
    Configuration c = new Configuration();
    c.set(JobManagerOptions.ADDRESS, "localhost");
    c.set(JobManagerOptions.PORT, layout.flinkRpcPort());
    c.set(JobManagerOptions.BIND_HOST, "localhost");
    c.set(TaskManagerOptions.BIND_HOST, "localhost");
    c.set(TaskManagerOptions.HOST, "localhost");
    c.set(RestOptions.ADDRESS, "localhost");
    c.set(RestOptions.BIND_ADDRESS, "localhost");
    c.set(RestOptions.PORT, layout.flinkRestPort());
    c.set(JobManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse("900m"));
    c.set(TaskManagerOptions.TOTAL_PROCESS_MEMORY, MemorySize.parse("1700m"));
    // 4 slots: a blue/green upgrade runs two generations (parallelism 2 each) side by side
    c.set(TaskManagerOptions.NUM_TASK_SLOTS, 4);
    c.set(CoreOptions.DEFAULT_PARALLELISM, 2);
    // each job spread over both TaskManagers, with free slots on each for the other's share:
    // after a TaskManager is lost, the job restarts on the survivor, whose JVM has run the job's
    // code already (docs/decisions.md 29)
    c.set(
        TaskManagerOptions.TASK_MANAGER_LOAD_BALANCE_MODE,
        TaskManagerOptions.TaskManagerLoadBalanceMode.SLOTS);
    c.set(StateBackendOptions.STATE_BACKEND, "rocksdb");
    c.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
    c.set(RocksDBConfigurableOptions.LOG_DIR, flink.resolve("tmp/rocksdb-logs").toString());
    // "file://" + path, not toUri(): Flink's Path escapes a percent-encoded path a second time
    c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, "file://" + flink.resolve("checkpoints"));
    c.set(CheckpointingOptions.SAVEPOINT_DIRECTORY, "file://" + flink.resolve("savepoints"));
    c.set(CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 3);
    c.set(
        CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
        ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    c.set(RestartStrategyOptions.RESTART_STRATEGY, "exponential-delay");
    c.set(
        RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_INITIAL_BACKOFF,
        Duration.ofSeconds(1));
    c.set(
        RestartStrategyOptions.RESTART_STRATEGY_EXPONENTIAL_DELAY_MAX_BACKOFF,
        Duration.ofSeconds(30));
    // a lost TaskManager is noticed in seconds, not the default 50 s (docs/decisions.md)
    c.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, Duration.ofSeconds(1));
    c.set(HeartbeatManagerOptions.HEARTBEAT_TIMEOUT, Duration.ofSeconds(15));
    c.set(WebOptions.SUBMIT_ENABLE, true);
    c.set(WebOptions.UPLOAD_DIR, flink.resolve("uploads").toString());
    c.set(CoreOptions.TMP_DIRS, flink.resolve("tmp").toString());
    c.set(CoreOptions.FLINK_JVM_OPTIONS, String.join(" ", FlinkJvm.OPENS));
    // a named reporter's options are "metrics.reporter.<name>.<option>"
    String prom = ConfigConstants.METRICS_REPORTER_PREFIX + "prom.";
    c.setString(
        prom + MetricOptions.REPORTER_FACTORY_CLASS.key(),
        "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
    c.setString(prom + "port", LocalStack.PROMETHEUS_PORTS); // PrometheusReporter's own option
    return c;
  }

  private Path flinkConf() {
    return layout.dir().resolve("flink/conf");
  }

  /** Writes {@code config.yaml} and {@code log4j.properties}, and the folders they name. */
  void writeConfiguration() throws IOException {
    Path conf = flinkConf();
    Path flink = layout.dir().resolve("flink");
    for (String dir : List.of("conf", "checkpoints", "savepoints", "uploads", "tmp")) {
      Files.createDirectories(flink.resolve(dir));
    }
    List<String> lines = new ArrayList<>();
    lines.add("# Flink session cluster of the local Tally stack (written by ./tally stack up)");
    // sorted: a file an operator reads, the same bytes for the same stack
    lines.addAll(
        ConfigurationUtils.convertConfigToWritableLines(configuration(), true).stream()
            .sorted()
            .toList());
    Files.write(conf.resolve("config.yaml"), lines, StandardCharsets.UTF_8);
    Files.writeString(
        conf.resolve("log4j.properties"),
        "rootLogger.level = INFO\nrootLogger.appenderRef.f.ref = f\nappender.f.type = File\nappender.f.name = f\n"
            + "appender.f.fileName = ${sys:log.file}\nappender.f.layout.type = PatternLayout\n"
            + "appender.f.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %c{1} - %m%n\n"
            + "logger.kafka.name = org.apache.kafka\nlogger.kafka.level = WARN\n");
  }

  private void startJobManager() throws Exception {
    startFlinkProcess(
        jobManager,
        "GET_JM_RESOURCE_PARAMS",
        "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
        "jobmanager");
    waitFor("Flink JobManager", jobManager, this::answers);
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
    try {
      for (FlinkRest.TaskManager tm : flinkRest().taskManagers()) {
        if (taskManager.name().equals(tm.id())) {
          return tm.path();
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
    ManagedProcess busiest = taskManagers.get(0);
    int mostUsed = -1;
    for (FlinkRest.TaskManager tm : flinkRest().taskManagers()) {
      int used = tm.slots() - tm.freeSlots();
      for (ManagedProcess candidate : taskManagers) {
        if (candidate.name().equals(tm.id()) && used > mostUsed) {
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

  /** The cluster's REST API, with short timeouts: the stack asks it whether Flink is up. */
  private FlinkRest flinkRest() {
    return new HttpFlinkRest(layout.flinkRestUrl(), Duration.ofSeconds(3));
  }

  /** Whether the JobManager's REST API answers. */
  public boolean answers() {
    try {
      flinkRest().taskManagers();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

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

  /**
   * kill -9 of the TaskManager running the jobs; the caller starts its replacement (e.g. while it
   * measures how the jobs recover meanwhile).
   */
  public LocalStack.Replacement killTaskManager() throws Exception {
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
}
