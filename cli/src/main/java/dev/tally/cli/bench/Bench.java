package dev.tally.cli.bench;

import dev.tally.avro.PersonState;
import dev.tally.avro.RawEvent;
import dev.tally.cli.bench.micro.HotPathBenchmarks;
import dev.tally.cli.demo.Topics;
import dev.tally.cli.demo.TrafficProducer;
import dev.tally.cli.stack.LocalStack;
import dev.tally.cli.stack.StackLayout;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.jobs.IngestionJob;
import dev.tally.jobs.JobArgs;
import dev.tally.jobs.JobOptions;
import dev.tally.jobs.TallyTopology;
import dev.tally.jobs.reference.ReferenceJob;
import dev.tally.operators.persons.PersonIds;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.PersonsSavepoint;
import dev.tally.savepoints.SavepointOperations;
import dev.tally.sinks.kafka.AvroCodec;
import dev.tally.sinks.postgres.CommittedRows;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * {@code ./tally bench}: one run on the local stack that measures the pipeline against the
 * machine's own ceiling, as ratios (docs/performance.md). Every phase runs the real job (Kafka
 * source, RocksDB, both exactly-once sinks, checkpoints) in its own generation; each result is
 * taken from committed rows in PostgreSQL, never from the job's own counters.
 */
public final class Bench {
  static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(2);
  private static final double EVENT_TIME_RATE = 1000; // generated events per second of event time

  /** What a run measures: backlog size, live phase length, persons in the savepoint. */
  public record Plan(
      long events,
      Duration steady,
      long persons,
      java.util.Set<String> phases,
      int jmhIterations,
      Map<String, String> jobOptions,
      double liveRate) {
    /** The phases of a run, in order; the table rows are numbered after them. */
    public static final List<String> PHASES =
        List.of("ceiling", "pipeline", "skew", "freshness", "savepoint", "capture", "micro");

    public static Plan full(long events, java.util.Set<String> phases) {
      return new Plan(events, Duration.ofSeconds(60), 1_000_000, phases, 5, Map.of(), Double.NaN);
    }

    public static Plan quick(java.util.Set<String> phases) {
      return new Plan(100_000, Duration.ofSeconds(20), 100_000, phases, 2, Map.of(), Double.NaN);
    }

    /** The same plan with job options (e.g. tally.kafka.compression=none) for every job. */
    public Plan withJobOptions(Map<String, String> options) {
      return new Plan(
          events, steady, persons, phases, jmhIterations, Map.copyOf(options), liveRate);
    }

    /**
     * The same plan with live traffic at {@code eventsPerSecond} instead of half the sustained
     * rate, so that A/B runs of the freshness and recovery phases carry the same load.
     */
    public Plan withLiveRate(double eventsPerSecond) {
      return new Plan(events, steady, persons, phases, jmhIterations, jobOptions, eventsPerSecond);
    }

    /** Whether the live traffic runs at a fixed rate rather than half the sustained one. */
    public boolean fixedLiveRate() {
      return !Double.isNaN(liveRate);
    }

    boolean has(String phase) {
      return phases.contains(phase);
    }
  }

  /** One measured number, with its target when it has one. */
  public record Row(String measure, String value, String target, Boolean met) {}

  private final LocalStack stack;
  private final FlinkRest flink;
  private final PrintStream out;
  private final AtomicBoolean stop;
  private final Path jobJar;
  private final String run = Long.toString(Instant.now().getEpochSecond(), 36);
  private final List<String> runningJobs = Collections.synchronizedList(new ArrayList<>());
  private final List<String> generations = Collections.synchronizedList(new ArrayList<>());
  private final long started = System.nanoTime();
  private Map<String, Double> lastDrainCpu = Map.of();
  private Map<String, Double> lastDrainThreads = Map.of();
  private Map<String, List<FlinkRest.SubtaskLoad>> lastDrainSubtasks = Map.of();
  private double lastDrainSeconds = Double.NaN;
  private double[] lastDrainTaskManagerCpu = {Double.NaN, Double.NaN};
  private Map<String, String> jobOptions = Map.of();

  public Bench(LocalStack stack, FlinkRest flink, PrintStream out, AtomicBoolean stop, Path jar) {
    this.stack = stack;
    this.flink = flink;
    this.out = out;
    this.stop = stop;
    this.jobJar = jar;
  }

  /** Jobs still running (cancelled on cleanup) and generations created by this run. */
  public List<String> runningJobs() {
    return List.copyOf(runningJobs);
  }

  public List<String> generations() {
    return List.copyOf(generations);
  }

  private void log(String format, Object... args) {
    out.printf("[t+%5.1fs] %s%n", (System.nanoTime() - started) / 1e9, String.format(format, args));
  }

  public List<Row> run(Plan plan) throws Exception {
    this.jobOptions = plan.jobOptions();
    StackLayout layout = stack.layout();
    String uniformTopic = "bench_uniform_" + run;
    String skewedTopic = "bench_skewed_" + run;
    String oneProjectTopic = "bench_one_project_" + run;
    String liveTopic = "bench_live_" + run;
    Topics.ensure(
        layout.kafkaBootstrap(),
        Map.of(
            uniformTopic,
            2,
            skewedTopic,
            2,
            oneProjectTopic,
            2,
            liveTopic,
            2,
            "bench_enriched",
            2,
            "bench_dead_letter",
            1,
            "bench_late",
            1));
    List<Row> rows = new ArrayList<>();

    Instant backlogStart =
        Instant.now().minusSeconds((long) (plan.events() / EVENT_TIME_RATE) + 60);
    if (plan.has("ceiling") || plan.has("pipeline") || plan.has("skew")) {
      preload(uniformTopic, new TrafficGenerator(1, backlogStart, EVENT_TIME_RATE, 5000), plan);
    }
    if (plan.has("skew")) {
      preload(skewedTopic, TrafficGenerator.skewed(2, backlogStart, EVENT_TIME_RATE, 5000), plan);
      preload(
          oneProjectTopic,
          TrafficGenerator.oneProject(1, backlogStart, EVENT_TIME_RATE, 5000),
          plan);
    }
    double ceiling = Double.NaN;
    if (plan.has("ceiling")) {
      ceiling = ceiling(uniformTopic, plan.events());
      rows.add(
          new Row("1. ceiling: Kafka consumer + Avro decode (1 thread)", rate(ceiling), "", null));
    }
    double uniform = Double.NaN;
    if (plan.has("pipeline") || plan.has("skew")) {
      // A freshly started TaskManager JVM runs its first job far slower (JIT of Flink's own
      // code, cold broker): the first drain after `stack up` ran at ~60% of the next ones
      // (docs/performance.md finding 13). One unmeasured drain makes the runs comparable.
      long warmUp = plan.events() / 5;
      log("warm-up drain of %,d events (not measured)", warmUp);
      drain("w", uniformTopic, warmUp);
      uniform = pipeline(plan, uniformTopic, ceiling, rows);
    }
    if (plan.has("skew")) {
      skew(plan, skewedTopic, oneProjectTopic, uniform, rows);
    }
    if (plan.has("freshness")) {
      double rate =
          plan.fixedLiveRate() ? plan.liveRate() : Double.isNaN(uniform) ? 2000 : uniform / 2;
      rows.addAll(freshnessAndRecovery(liveTopic, rate, plan.fixedLiveRate(), plan.steady()));
    }
    if (plan.has("savepoint")) {
      rows.addAll(savepointWithPersons(plan.persons(), liveTopic));
    }
    if (plan.has("capture")) {
      String captureTopic = "bench_capture_" + run;
      Topics.ensure(layout.kafkaBootstrap(), Map.of(captureTopic, 2));
      int captureEvents = (int) Math.min(plan.events(), 600_000);
      log(
          "capture phase: %,d events through the capture endpoint and a bare producer",
          captureEvents);
      CaptureBench.Result r =
          CaptureBench.run(layout.kafkaBootstrap(), captureTopic, captureEvents, out);
      rows.add(
          new Row(
              "capture: gzip batches of 100 through the endpoint vs a bare producer",
              CaptureBench.describe(r),
              "",
              null));
      rows.add(new Row("   capture / producer", ratio(r.ratio()), "≥ 0.5", r.ratio() >= 0.5));
    }
    if (plan.has("micro")) {
      rows.addAll(micro(uniform, plan.jmhIterations()));
    }
    return rows;
  }

  private double pipeline(Plan plan, String uniformTopic, double ceiling, List<Row> rows)
      throws Exception {
    double[] referenceCpu = new double[2];
    double reference = reference(uniformTopic, plan.events(), referenceCpu);
    double uniform = drain("u", uniformTopic, plan.events());
    double[] pipelineCpu = lastDrainTaskManagerCpu;
    rows.add(
        new Row(
            "2. pipeline: drain the uniform backlog (p=2, EO sinks, RocksDB)",
            rate(uniform) + "  (" + rate(uniform / 2) + " per core)",
            "",
            null));
    if (!lastDrainCpu.isEmpty()) {
      rows.add(new Row("   who used the CPU during the drain", cpuShares(lastDrainCpu), "", null));
      rows.add(
          new Row(
              "   TaskManager threads during the drain (cores)",
              CpuShares.describeCores(lastDrainThreads),
              "",
              null));
    }
    lastDrainSubtasks.forEach(
        (task, subtasks) ->
            rows.add(
                new Row(
                    String.format(
                        "   subtasks of '%s' during the %.1f s drain",
                        task.length() > 24 ? task.substring(0, 24) + "…" : task, lastDrainSeconds),
                    SubtaskLoad.describe(subtasks),
                    "",
                    null)));
    rows.add(
        new Row(
            "   reference: the same backlog through Nexmark q18 (decode, keyBy uuid, RocksDB dedup,"
                + " discarding sink, same checkpoints)",
            rate(reference),
            "",
            null));
    rows.add(
        new Row(
            "   pipeline / reference",
            ratio(uniform / reference),
            "≥ 0.50",
            uniform / reference >= 0.5));
    rows.add(
        new Row(
            "   events per TaskManager CPU-second (JIT apart)",
            perCpuSecond("pipeline", plan.events(), pipelineCpu)
                + "; "
                + perCpuSecond("reference", plan.events(), referenceCpu),
            "",
            null));
    if (!Double.isNaN(ceiling)) {
      // context only: one decoding thread is no peer for a whole pipeline (issue 15)
      rows.add(new Row("   pipeline / ceiling", ratio(uniform / ceiling), "", null));
    }
    return uniform;
  }

  /**
   * The reference job ({@link ReferenceJob}) over the same backlog, bounded at its end: events/s
   * from RUNNING to FINISHED (the final checkpoint included, as the pipeline's drain includes the
   * commit that accounts for its last event). {@code cpu} receives the TaskManager's CPU seconds.
   */
  private double reference(String topic, long events, double[] cpu) throws Exception {
    String generation = "benchr" + run;
    List<String> args = jobArgs(generation, topic, "earliest");
    args.addAll(List.of("--" + JobOptions.STOPPING_OFFSETS.key(), "latest"));
    String job = submit(ReferenceJob.class, args, null);
    CpuShares.Snapshot before = CpuShares.take();
    long t0 = System.nanoTime();
    // polled often: the reference drains a million events in ~12 s (a cancel on Ctrl-C ends it)
    var state =
        JobSubmission.awaitTerminal(flink, job, Duration.ofMinutes(20), Duration.ofMillis(100));
    if (state != org.apache.flink.api.common.JobStatus.FINISHED) {
      throw new IOException(
          "the reference job "
              + job
              + " did not finish: "
              + state
              + ", "
              + flink.rootException(job));
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    double[] used = CpuShares.taskManagerCpuSeconds(before, CpuShares.take());
    cpu[0] = used[0];
    cpu[1] = used[1];
    runningJobs.remove(job);
    log("reference: %,d events in %.1f s", events, seconds);
    return events / seconds;
  }

  private static String perCpuSecond(String what, long events, double[] cpu) {
    if (Double.isNaN(cpu[0]) || cpu[0] <= 0) {
      return what + " not measured (no /proc)";
    }
    return String.format(
        "%s %,.0f (%,.0f without the JIT's %.1f of %.1f CPU-s)",
        what, events / cpu[0], events / Math.max(1e-9, cpu[0] - cpu[1]), cpu[1], cpu[0]);
  }

  private void skew(
      Plan plan, String skewedTopic, String oneProjectTopic, double uniform, List<Row> rows)
      throws Exception {
    double skewed = drain("s", skewedTopic, plan.events());
    rows.add(new Row("3. skewed: half on one project, Zipf distinct_ids", rate(skewed), "", null));
    rows.add(
        new Row("   skewed / uniform", ratio(skewed / uniform), "≥ 0.80", skewed / uniform >= 0.8));
    double one = drain("o", oneProjectTopic, plan.events());
    rows.add(
        new Row(
            "   one project: the uniform traffic, all of it on one project", rate(one), "", null));
    rows.add(
        new Row(
            "   one project / three projects",
            ratio(one / uniform),
            "≥ 0.90",
            one / uniform >= 0.9));
    // Dedup is keyed by (project, uuid) since issue 15 step 2 and spreads; the person rules are
    // still keyed by project. The share is the person task's: the busiest of the two.
    List<FlinkRest.SubtaskLoad> dedup = drainTask("deduplicate");
    List<FlinkRest.SubtaskLoad> persons = drainTask("enrich with person");
    if (persons == null) {
      persons = drainTask("apply to person"); // tally.persons.layout=distinct-id
    }
    double share = busiestShare(persons);
    if (dedup != null) {
      rows.add(
          new Row(
              "   subtasks of the dedup task, one project", SubtaskLoad.describe(dedup), "", null));
    }
    if (persons != null) {
      rows.add(
          new Row(
              "   subtasks of the person task, one project",
              SubtaskLoad.describe(persons),
              "",
              null));
    }
    rows.add(
        new Row(
            "   busiest keyed subtask share",
            Double.isNaN(share) ? "not measured" : ratio(share),
            "≤ 0.55",
            Double.isNaN(share) ? null : share <= 0.55));
  }

  /** The subtasks of the last drain's task whose name starts with {@code prefix}, or null. */
  private List<FlinkRest.SubtaskLoad> drainTask(String prefix) {
    return lastDrainSubtasks.entrySet().stream()
        .filter(t -> t.getKey().startsWith(prefix))
        .map(Map.Entry::getValue)
        .findFirst()
        .orElse(null);
  }

  /** The largest share of records among the subtasks of one task (NaN: none known). */
  static double busiestShare(List<FlinkRest.SubtaskLoad> subtasks) {
    if (subtasks == null || subtasks.isEmpty()) {
      return Double.NaN;
    }
    long all = subtasks.stream().mapToLong(FlinkRest.SubtaskLoad::records).sum();
    long most = subtasks.stream().mapToLong(FlinkRest.SubtaskLoad::records).max().orElse(0);
    return all == 0 ? Double.NaN : (double) most / all;
  }

  /**
   * 7. The hot path's CPU per event on one thread (JMH, {@link HotPathBenchmarks}), next to the
   * pipeline's time per event per core: how much of the budget the operators' own code takes.
   */
  private List<Row> micro(double uniform, int iterations) throws Exception {
    log(
        "JMH: per-event cost of the hot-path steps (1 fork, %d × 1 s warm-up, %d × 1 s)",
        iterations, iterations);
    org.openjdk.jmh.runner.options.Options options =
        new org.openjdk.jmh.runner.options.OptionsBuilder()
            .include(HotPathBenchmarks.class.getName() + ".*")
            .forks(1)
            .warmupIterations(iterations)
            .warmupTime(org.openjdk.jmh.runner.options.TimeValue.seconds(1))
            .measurementIterations(iterations)
            .measurementTime(org.openjdk.jmh.runner.options.TimeValue.seconds(1))
            .jvmArgsAppend("-Xmx512m")
            .build();
    List<Row> rows = new ArrayList<>();
    double pipelineSteps = 0;
    for (org.openjdk.jmh.results.RunResult r : new org.openjdk.jmh.runner.Runner(options).run()) {
      String method = r.getParams().getBenchmark();
      method = method.substring(method.lastIndexOf('.') + 1);
      double ns = r.getPrimaryResult().getScore();
      double error = r.getPrimaryResult().getScoreError();
      rows.add(
          new Row(
              "7. JMH " + method,
              String.format("%,.0f ns/event (± %,.0f)", ns, Double.isNaN(error) ? 0 : error),
              "",
              null));
      // decodeAndValidate includes the decode and shuffleContributions the contributions; row
      // revisions are bundled (far fewer than events), so shuffleRow is not a per-event cost
      if (!List.of("avroDecode", "toContributions", "shuffleRow").contains(method)) {
        pipelineSteps += ns;
      }
    }
    if (!Double.isNaN(uniform)) {
      double budgetNs = Runtime.getRuntime().availableProcessors() / uniform * 1e9;
      rows.add(
          new Row(
              "   the steps above per event / pipeline time per event per core",
              String.format(
                  "%,.1f µs / %,.1f µs = %.0f%%",
                  pipelineSteps / 1000, budgetNs / 1000, 100 * pipelineSteps / budgetNs),
              "",
              null));
    }
    return rows;
  }

  /** "Flink TaskManager 61%, Kafka broker 18%, …, idle 9%" of the whole machine. */
  static String cpuShares(Map<String, Double> shares) {
    List<String> parts = new ArrayList<>();
    double used = 0;
    for (Map.Entry<String, Double> e : shares.entrySet()) {
      parts.add(String.format("%s %.0f%%", e.getKey(), e.getValue() * 100));
      used += e.getValue();
    }
    parts.add(String.format("idle %.0f%%", Math.max(0, 1 - used) * 100));
    return String.join(", ", parts)
        + " (of "
        + Runtime.getRuntime().availableProcessors()
        + " cores)";
  }

  private static String rate(double eventsPerSecond) {
    return String.format("%,.0f events/s", eventsPerSecond);
  }

  private static String ratio(double r) {
    return String.format("%.2f", r);
  }

  private void preload(String topic, TrafficGenerator generator, Plan plan) {
    long t0 = System.nanoTime();
    try (TrafficProducer producer = new TrafficProducer(stack.layout().kafkaBootstrap(), topic)) {
      producer.sendAll(generator, plan.events(), 0, stop, null);
    }
    log(
        "preloaded %,d events into %s in %.1f s",
        plan.events(), topic, (System.nanoTime() - t0) / 1e9);
  }

  /** Reads the whole topic with one plain consumer and decodes every record: events/s. */
  double ceiling(String topic, long events) throws IOException {
    Properties p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, stack.layout().kafkaBootstrap());
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, "52428800");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(topic)) {
        partitions.add(new TopicPartition(topic, info.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long read = 0;
      long decoded = 0;
      long t0 = System.nanoTime();
      while (read < events && !stop.get()) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          read++;
          try {
            if (AvroCodec.decode(r.value(), RawEvent.class).getUuid() != null) {
              decoded++;
            }
          } catch (IOException | RuntimeException notAvro) {
            // the 1% invalid records: counted as read, like the job's dead letters
          }
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      log("ceiling: read %,d records (%,d decoded) in %.2f s", read, decoded, seconds);
      return read / seconds;
    }
  }

  private List<String> jobArgs(String generation, String rawTopic, String startingOffsets) {
    JobArgs args =
        JobArgs.parse(stack.layout().jobArgs(generation, CHECKPOINT_INTERVAL, startingOffsets))
            .set(JobOptions.TOPIC_RAW, rawTopic)
            .set(JobOptions.TOPIC_ENRICHED, "bench_enriched")
            .set(JobOptions.TOPIC_DEAD_LETTER, "bench_dead_letter")
            .set(JobOptions.TOPIC_LATE, "bench_late");
    jobOptions.forEach(args::set);
    return new ArrayList<>(args.toList());
  }

  private String start(String generation, List<String> args, String savepoint) throws Exception {
    try (Connection admin = stack.admin()) {
      JobSubmission.activateGeneration(admin, generation, args);
    }
    generations.add(generation);
    return submit(IngestionJob.class, args, savepoint);
  }

  /** Uploads the job jar, runs {@code entry} from it and waits until its tasks run. */
  private String submit(Class<?> entry, List<String> args, String savepoint) throws Exception {
    String job = flink.submit(jobJar, entry.getName(), args, savepoint);
    runningJobs.add(job);
    JobSubmission.awaitRunning(flink, job, Duration.ofSeconds(90));
    return job;
  }

  private void cancel(String job) throws Exception {
    flink.cancel(job);
    JobSubmission.awaitTerminal(flink, job, Duration.ofSeconds(60));
    runningJobs.remove(job);
  }

  /**
   * Runs a new generation over a preloaded backlog: events/s from the job running to the commit
   * that accounts for the last event (ledger consumed = backlog, polled every 100 ms).
   */
  double drain(String suffix, String topic, long events) throws Exception {
    String generation = "bench" + suffix + run;
    String job = start(generation, jobArgs(generation, topic, "earliest"), null);
    CpuShares.Snapshot cpuBefore = CpuShares.take();
    long t0 = System.nanoTime();
    long deadline = t0 + Duration.ofMinutes(20).toNanos();
    long consumed = 0;
    try (Connection c = stack.admin()) {
      while (consumed < events && System.nanoTime() < deadline && !stop.get()) {
        consumed = CommittedRows.ledgerTotals(c, generation).consumed();
        Thread.sleep(100);
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    CpuShares.Snapshot cpuAfter = CpuShares.take();
    lastDrainCpu = CpuShares.between(cpuBefore, cpuAfter);
    lastDrainThreads = CpuShares.taskManagerThreads(cpuBefore, cpuAfter);
    lastDrainTaskManagerCpu = CpuShares.taskManagerCpuSeconds(cpuBefore, cpuAfter);
    lastDrainSeconds = seconds;
    cancel(job);
    // from the cancelled job: the final numbers (a running job's REST metrics can lag or be empty)
    lastDrainSubtasks = subtaskLoad(job);
    if (consumed < events) {
      throw new IOException(
          "generation " + generation + " accounted for only " + consumed + " of " + events);
    }
    log("%s: %,d events committed in %.1f s", generation, events, seconds);
    return events / seconds;
  }

  /** Records and busy time per subtask of the two keyed tasks; empty if REST did not answer. */
  private Map<String, List<FlinkRest.SubtaskLoad>> subtaskLoad(String job) {
    try {
      return SubtaskLoad.of(
          flink,
          job,
          List.of(
              "deduplicate",
              "enrich with person",
              "route by distinct_id",
              "apply to person",
              "count events"));
    } catch (IOException e) {
      log("could not read the subtasks' load: %s", e.getMessage());
      return Map.of();
    }
  }

  /** How long the recovery phase waits for staleness to come back within the steady p99. */
  static final Duration RECOVERY_WINDOW = Duration.ofMinutes(3);

  /** How long the freshness phase waits for a new job to catch up before sampling anyway. */
  static final Duration START_UP_LIMIT = Duration.ofSeconds(90);

  /**
   * {staleness, lag} in seconds: now − complete_through, and how far the committed watermark trails
   * {@code sentWatermark} (the watermark of every event sent so far); null before the generation's
   * first commit.
   */
  private static double[] freshnessSample(Connection c, String generation, long sentWatermark)
      throws Exception {
    double s = staleness(c, generation);
    if (Double.isNaN(s)) {
      return null;
    }
    double lag = Math.max(0, (sentWatermark - (System.currentTimeMillis() - s * 1000)) / 1000.0);
    return new double[] {s, lag};
  }

  private static void appendSample(
      StringBuilder series, long jobStarted, String phase, double[] sample) {
    series.append(
        String.format(
            java.util.Locale.ROOT,
            "%.2f,%s,%.3f,%.3f%n",
            (System.nanoTime() - jobStarted) / 1e9,
            phase,
            sample[0],
            sample[1]));
  }

  /** Whether every subtask of the generation's aggregate sink committed a transaction since. */
  static boolean allSubtasksCommittedSince(Connection c, String generation, Timestamp since)
      throws Exception {
    return CommittedRows.allSubtasksCommittedSince(
        c, generation, IngestionJob.AGGREGATES_SINK_ID, since.toInstant());
  }

  /** now − complete_through of a generation, in seconds; NaN before its first commit. */
  private static double staleness(Connection c, String generation) throws Exception {
    Long completeThrough = CommittedRows.completeThroughMs(c, generation);
    return completeThrough == null
        ? Double.NaN
        : (System.currentTimeMillis() - completeThrough) / 1000.0;
  }

  private List<Row> freshnessAndRecovery(
      String topic, double rate, boolean fixedRate, Duration steady) throws Exception {
    String generation = "benchf" + run;
    String job =
        start(
            generation,
            jobArgs(generation, topic, "timestamp:" + System.currentTimeMillis()),
            null);
    long jobStarted = System.nanoTime();
    TrafficGenerator live = new TrafficGenerator(3, Instant.now(), rate, 5000);
    AtomicLong newestSent = new AtomicLong(Long.MIN_VALUE);
    AtomicBoolean producing = new AtomicBoolean(true);
    Thread producer =
        new Thread(() -> sendLive(topic, live, rate, producing, newestSent), "bench-live-traffic");
    producer.setDaemon(true);
    producer.start();
    log(
        "live traffic at %,.0f events/s (%s) into generation %s",
        rate, fixedRate ? "set by --live-rate" : "half the sustained rate", generation);
    List<Row> rows = new ArrayList<>();
    try (Connection c = stack.admin()) {
      Thread.sleep(10_000); // first checkpoints
      List<Double> samples = new ArrayList<>();
      List<Double> lags = new ArrayList<>();
      long ooo =
          IngestionJob.settings(new org.apache.flink.configuration.Configuration())
              .maxOutOfOrderness()
              .toMillis();
      // every sample is kept for the findings: where the p99 comes from
      StringBuilder series = new StringBuilder("seconds_since_start,phase,staleness_s,lag_s\n");
      // Start-up: a new job catches up with the traffic sent while it started, on JVMs that
      // compile its code meanwhile. Steady state begins once its committed watermark is within one
      // checkpoint interval of everything sent; how long that took is reported, not hidden.
      double caughtUp = Double.NaN;
      long settleDeadline = System.nanoTime() + START_UP_LIMIT.toNanos();
      while (System.nanoTime() < settleDeadline && !stop.get()) {
        double[] sample = freshnessSample(c, generation, newestSent.get() - ooo);
        if (sample != null) {
          appendSample(series, jobStarted, "start-up", sample);
          if (sample[1] <= CHECKPOINT_INTERVAL.toSeconds()) {
            caughtUp = (System.nanoTime() - jobStarted) / 1e9;
            break;
          }
        }
        Thread.sleep(250);
      }
      long end = System.nanoTime() + steady.toNanos();
      while (System.nanoTime() < end && !stop.get()) {
        double[] sample = freshnessSample(c, generation, newestSent.get() - ooo);
        if (sample != null) {
          samples.add(sample[0]);
          lags.add(sample[1]);
          appendSample(series, jobStarted, "steady", sample);
        }
        Thread.sleep(250);
      }
      Path seriesFile = stack.layout().dir().resolve("bench").resolve(run).resolve("freshness.csv");
      Files.createDirectories(seriesFile.getParent());
      Files.writeString(seriesFile, series);
      Collections.sort(samples);
      Collections.sort(lags);
      double p50 = percentile(samples, 0.50);
      double p99 = percentile(samples, 0.99);
      double lag99 = percentile(lags, 0.99);
      double budget = CHECKPOINT_INTERVAL.toSeconds() + 2;
      log(
          "freshness: %d samples, staleness p50 %.2f s, p99 %.2f s; lag behind sent p99 %.2f s"
              + " (every sample in %s)",
          samples.size(), p50, p99, lag99, seriesFile);
      rows.add(
          new Row(
              "4. freshness at "
                  + (fixedRate ? String.format("%,.0f/s", rate) : "half rate")
                  + ": staleness (now − complete_through) p50 / p99",
              String.format("%.2f s / %.2f s", p50, p99),
              "",
              null));
      rows.add(
          new Row(
              "   start-up: a new job's committed watermark within the checkpoint interval of"
                  + " all events sent",
              Double.isNaN(caughtUp)
                  ? "not within " + START_UP_LIMIT.toSeconds() + " s (sampled anyway)"
                  : String.format("%.1f s after the job started", caughtUp),
              "",
              null));
      rows.add(
          new Row(
              "   committed watermark behind the watermark of all events sent: p50 / p99",
              String.format("%.2f s / %.2f s", percentile(lags, 0.5), lag99),
              String.format("p99 ≤ %.0f s (checkpoint interval + 2 s)", budget),
              lag99 <= budget));

      log("kill -9 of the TaskManager under load");
      long killed = System.nanoTime();
      Timestamp killedAt = new Timestamp(System.currentTimeMillis());
      LocalStack.Replacement replacement = stack.killTaskManager();
      // a new TaskManager starts meanwhile, as a supervisor would start one
      Thread supervisor =
          new Thread(
              () -> {
                try {
                  replacement.start();
                } catch (Exception e) {
                  log("the replacement TaskManager did not start: %s", e.getMessage());
                }
              },
              "bench-supervisor");
      supervisor.setDaemon(true);
      supervisor.start();
      double recovered = Double.NaN;
      double worst = 0;
      long deadline = killed + RECOVERY_WINDOW.toNanos();
      while (System.nanoTime() < deadline && !stop.get()) {
        double s = staleness(c, generation);
        if (!Double.isNaN(s)) {
          worst = Math.max(worst, s);
        }
        // Recovered: every sink subtask committed again after the kill (only a checkpoint that
        // completed after the restart commits), and staleness is back within the steady p99. A
        // restart fast enough that staleness never left the p99 still has to commit again.
        if (!Double.isNaN(s) && s <= p99 && allSubtasksCommittedSince(c, generation, killedAt)) {
          recovered = (System.nanoTime() - killed) / 1e9;
          break;
        }
        Thread.sleep(250);
      }
      supervisor.join(Duration.ofMinutes(2).toMillis());
      if (Double.isNaN(recovered)) {
        log(
            "staleness not back within the steady-state p99 %d s after the kill",
            RECOVERY_WINDOW.toSeconds());
      } else {
        log(
            "recovered to the steady-state p99 after %.1f s (worst staleness meanwhile %.1f s)",
            recovered, worst);
      }
      rows.add(
          new Row(
              "5. recovery: TaskManager kill -9 → staleness back within p99",
              Double.isNaN(recovered)
                  ? "not within " + RECOVERY_WINDOW.toSeconds() + " s"
                  : String.format("%.1f s (staleness peaked at %.1f s)", recovered, worst),
              "≤ 30 s",
              recovered <= 30));
    } finally {
      producing.set(false);
      producer.join(10_000);
      cancel(job);
    }
    return rows;
  }

  /** Sends live traffic at {@code rate} until {@code producing} is cleared. */
  private void sendLive(
      String topic,
      TrafficGenerator generator,
      double rate,
      AtomicBoolean producing,
      AtomicLong newestSent) {
    try (TrafficProducer p = new TrafficProducer(stack.layout().kafkaBootstrap(), topic)) {
      long t0 = System.nanoTime();
      for (long n = 1; producing.get() && !stop.get(); n++) {
        GeneratedEvent e = generator.next();
        p.send(e);
        if (e.kind() != GeneratedEvent.Kind.INVALID) {
          newestSent.accumulateAndGet(e.timestampMillis(), Math::max);
        }
        long wait = t0 + (long) (n * 1e9 / rate) - System.nanoTime();
        if (wait > 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait);
        }
      }
    }
  }

  static double percentile(List<Double> sorted, double q) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(q * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
  }

  private List<Row> savepointWithPersons(long persons, String topic) throws Exception {
    Path dir = stack.layout().dir().resolve("bench").resolve(run);
    Files.createDirectories(dir);
    String bootstrapped = dir.resolve("persons-bootstrap").toUri().toString();
    long t0 = System.nanoTime();
    writePersons(persons, bootstrapped);
    double bootstrapSeconds = (System.nanoTime() - t0) / 1e9;
    log("bootstrapped %,d persons in %.1f s", persons, bootstrapSeconds);

    String generation = "benchp" + run;
    long r0 = System.nanoTime();
    String job = start(generation, jobArgs(generation, topic, "latest"), bootstrapped);
    long baseline = flink.lastCompletedCheckpoint(job);
    while (flink.lastCompletedCheckpoint(job) <= baseline && !stop.get()) {
      Thread.sleep(100);
    }
    double restoreSeconds = (System.nanoTime() - r0) / 1e9;
    log("restored %,d persons and completed a checkpoint in %.1f s", persons, restoreSeconds);

    long s0 = System.nanoTime();
    String savepoint =
        new SavepointOperations(flink, out, Duration.ofMinutes(10))
            .savepoint(job, dir.resolve("savepoints").toUri().toString());
    double takeSeconds = (System.nanoTime() - s0) / 1e9;
    long bytes = sizeOf(Path.of(java.net.URI.create(savepoint)));
    log("savepoint of %,d persons: %.1f s, %,d bytes", persons, takeSeconds, bytes);
    cancel(job);
    String label = String.format("%,d persons", persons);
    return List.of(
        new Row(
            "6. savepoint with " + label + ": take / size",
            String.format("%.1f s / %.1f MB", takeSeconds, bytes / 1e6),
            "",
            null),
        new Row(
            "   restore (submit → running → first checkpoint)",
            String.format("%.1f s", restoreSeconds),
            "",
            null),
        new Row(
            "   bootstrap-persons into a new savepoint (State Processor API)",
            String.format("%.1f s", bootstrapSeconds),
            "",
            null));
  }

  /** Writes {@code persons} synthetic persons (10 projects) as the enrich operator's state. */
  static void writePersons(long persons, String path) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    PersonsSavepoint.write(
        env,
        env.fromSequence(1, persons)
            .map(
                i -> {
                  String project = "bench" + (i % 10);
                  String distinctId = "user-" + i;
                  return Tuple2.of(
                      project,
                      PersonState.newBuilder()
                          .setPersonId(PersonIds.personId(project, distinctId))
                          .setProperties("{\"plan\":\"free\",\"first_seen\":\"2026-11-01\"}")
                          .setDistinctIds(List.of(distinctId))
                          .setIsIdentified(false)
                          .setCreatedAt(1_700_000_000_000L)
                          .build());
                })
            .returns(PersonsSavepoint.PROJECT_PERSON),
        TallyTopology.Uids.ENRICH,
        PersonsSavepoint.DEFAULT_MAX_PARALLELISM,
        path);
    env.execute("tally bench: bootstrap persons");
  }

  private static long sizeOf(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
    }
  }
}
