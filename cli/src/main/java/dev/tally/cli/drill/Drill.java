package dev.tally.cli.drill;

import dev.tally.cli.demo.Topics;
import dev.tally.cli.demo.TrafficProducer;
import dev.tally.cli.stack.LocalStack;
import dev.tally.cli.stack.StackLayout;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.jobs.JobArgs;
import dev.tally.jobs.JobOptions;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.Poll;
import dev.tally.savepoints.SavepointOperations;
import dev.tally.savepoints.audit.Audit;
import dev.tally.savepoints.audit.KafkaCounts;
import dev.tally.sinks.postgres.CommittedRows;
import dev.tally.sinks.postgres.GenerationCopy;
import dev.tally.sinks.postgres.GenerationRegistry;
import dev.tally.sinks.postgres.TransactionIds;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.api.common.JobStatus;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;

/**
 * A fault drill on the local stack: a fresh generation, traffic whose exact result is computed from
 * the generator's intent, the faults injected while the traffic flows, and afterwards checks that
 * every number is exactly right and nothing is left half-done. Also how an operator validates a new
 * deployment.
 */
public final class Drill {
  private static final Duration CHECKPOINT_INTERVAL = Duration.ofSeconds(2);
  private static final Duration CHECKPOINT_TIMEOUT = Duration.ofSeconds(8);

  private final LocalStack stack;
  private final FlinkRest flink;
  private final PrintStream out;
  private final long started = System.nanoTime();
  private final AtomicBoolean stop;
  private final List<GeneratedEvent> sent = Collections.synchronizedList(new ArrayList<>());

  /** Records a fault sent besides the traffic (hostile input). */
  private long extraEvents;

  /** The traffic's pace, kept so that records the drill adds on its own move at the same pace. */
  private double sendRate;

  private double eventTimeRate;

  private String generation;
  private String jobId;
  private Path jobJar;

  /** The job's arguments; also used to resume it (a restore ignores the starting offsets). */
  private List<String> jobArgs;

  private java.util.Map<String, String> jobOptions = java.util.Map.of();

  private boolean jobStopped;
  private Instant backfillFrom;
  private volatile boolean watching = true;
  private long analystSamples;
  private volatile long analystLastTotal;
  private final List<String> analystTotalDecreases =
      Collections.synchronizedList(new ArrayList<>());

  /**
   * While traffic flows (and through every fault, upgrade and flip), samples what analysts see: the
   * total of the final minute windows of the active generation. Final windows never change and the
   * set of final windows only grows, so the total may never decrease — a decrease is a gap or a
   * double count that an analyst could have seen.
   */
  private void watchAnalystTotals() {
    long previous = -1;
    while (watching && !stop.get()) {
      try (Connection c = stack.admin();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT coalesce(sum(events), 0) FROM analytics.event_counts"
                      + " WHERE grain = 'minute' AND is_final")) {
        while (watching && !stop.get()) {
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            long total = rs.getLong(1);
            analystSamples++;
            if (total < previous) {
              analystTotalDecreases.add(previous + " → " + total);
            }
            previous = total;
            analystLastTotal = total;
          }
          Thread.sleep(200);
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // PostgreSQL may be down on purpose: reconnect
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  /** The job's arguments with {@code g} as the generation. */
  private List<String> argsOf(String g) {
    return new ArrayList<>(JobArgs.parse(jobArgs).set(JobOptions.GENERATION, g).toList());
  }

  private Audit.Target auditTarget(String g) {
    return new Audit.Target(
        g,
        stack.layout().kafkaBootstrap(),
        Topics.RAW,
        Topics.ENRICHED,
        Topics.DEAD_LETTER,
        Duration.ofSeconds(30));
  }

  /**
   * Recounts everything this drill sent as a bounded backfill generation, which is audited and
   * flipped in, then checked like the live generation.
   */
  private boolean backfillAndVerify(long events) throws Exception {
    String backfillGeneration = generation + "b";
    log("backfill: recount the whole run as generation %s", backfillGeneration);
    var result =
        new dev.tally.savepoints.upgrade.Backfill(flink, stack::admin, out)
            .run(
                jobJar,
                stack.layout().jobArgs(backfillGeneration, CHECKPOINT_INTERVAL, "earliest"),
                new dev.tally.savepoints.upgrade.Backfill.Range(
                    backfillGeneration,
                    backfillFrom,
                    Instant.now().plusSeconds(1),
                    stack.layout().kafkaBootstrap(),
                    Topics.RAW,
                    Topics.ENRICHED,
                    Topics.DEAD_LETTER),
                // the whole run, not an hour range: the rebuild kind of backfill
                dev.tally.savepoints.upgrade.Backfill.Apply.REPLACE,
                Duration.ofMinutes(5));
    if (!result.flipped()) {
      log("BACKFILL NOT FLIPPED: %s", result.problems());
      return false;
    }
    try (Connection c = stack.admin()) {
      log("backfill flipped in; active generation is now %s", GenerationRegistry.active(c));
    }
    return verify(events, backfillGeneration);
  }

  public Drill(LocalStack stack, FlinkRest flink, PrintStream out, AtomicBoolean stop) {
    this.stack = stack;
    this.flink = flink;
    this.out = out;
    this.stop = stop;
  }

  /**
   * Options added to the drilled job's arguments (and so to its in-place and blue/green upgrades,
   * which resume from them); a backfill recounts with the defaults, as an operator's would.
   */
  public Drill withJobOptions(java.util.Map<String, String> options) {
    this.jobOptions = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(options));
    return this;
  }

  public String generation() {
    return generation;
  }

  /** The running job, if it still needs stopping. */
  public String runningJob() {
    return jobStopped ? null : jobId;
  }

  private void log(String format, Object... args) {
    out.printf("[t+%5.1fs] %s%n", (System.nanoTime() - started) / 1e9, String.format(format, args));
  }

  public boolean run(List<Fault> allFaults, long events, Path jobJar) throws Exception {
    // A backfill is not injected while traffic flows: it recounts the whole run afterwards.
    boolean backfill = allFaults.contains(Fault.BACKFILL);
    List<Fault> faults = allFaults.stream().filter(f -> f != Fault.BACKFILL).toList();
    Instant drillStart = Instant.now();
    this.backfillFrom = drillStart.minusSeconds(1);
    this.jobJar = jobJar;
    StackLayout layout = stack.layout();
    Topics.ensure(layout.kafkaBootstrap(), 2);
    generation = "drill" + Long.toString(Instant.now().getEpochSecond(), 36);
    jobArgs =
        new ArrayList<>(
            layout.jobArgs(
                generation,
                CHECKPOINT_INTERVAL,
                "timestamp:" + (System.currentTimeMillis() - 1000)));
    jobArgs =
        new ArrayList<>(
            JobArgs.parse(jobArgs).set(JobOptions.CHECKPOINT_TIMEOUT, CHECKPOINT_TIMEOUT).toList());
    jobOptions.forEach((key, value) -> jobArgs.addAll(List.of("--" + key, value)));
    if (!jobOptions.isEmpty()) {
      log("job options: %s", jobOptions);
    }
    try (Connection admin = stack.admin()) {
      JobSubmission.activateGeneration(admin, generation, jobArgs);
    }
    jobId = JobSubmission.submit(flink, jobJar, jobArgs, out);
    log("job %s running as generation %s", jobId, generation);

    // Real-time traffic long enough for every fault to land while events flow.
    double rate = events / (20.0 + 25.0 * faults.size());
    sendRate = rate;
    eventTimeRate = events / 600.0;
    TrafficGenerator generator =
        new TrafficGenerator(
            System.nanoTime(), Instant.now().minus(Duration.ofMinutes(10)), eventTimeRate, 500);
    Thread producer =
        new Thread(
            () -> {
              try (TrafficProducer p = new TrafficProducer(layout.kafkaBootstrap())) {
                for (long i = 0; i < events && !stop.get(); i++) {
                  GeneratedEvent e = generator.next();
                  p.send(e);
                  sent.add(e);
                  pace(i + 1, rate, started);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "drill-traffic");
    producer.start();
    Thread watcher = new Thread(this::watchAnalystTotals, "drill-analyst-watch");
    watcher.setDaemon(true);
    watcher.start();
    log("sending %,d events at %.0f/s", events, rate);

    for (int i = 0; i < faults.size() && !stop.get(); i++) {
      long target = events * (i + 1) / (faults.size() + 2);
      awaitConsumed(target, Duration.ofMinutes(3), false);
      inject(faults.get(i));
    }
    producer.join();
    watching = false;
    watcher.join(5000);
    log("all %,d events sent", sent.size());
    // read and accounted for before the stop: with persons keyed below the project an event
    // behind a merge is accounted for a few checkpoints after it was read, and a stop before that
    // would keep it in the savepoint, not in the rows the drill checks
    if (!awaitConsumed(events + extraEvents, Duration.ofMinutes(5), true)) {
      log("NOT all events were accounted for within 5 minutes");
    }
    stopWithSavepoint();
    boolean ok = verify(events, generation);
    if (backfill && !stop.get()) {
      ok &= backfillAndVerify(events);
    }
    return ok;
  }

  /** Sleeps until {@code sent} records are due at {@code rate} per second since {@code since}. */
  private static void pace(long sent, double rate, long since) throws InterruptedException {
    long wait = (long) (sent * 1e9 / rate) - (System.nanoTime() - since);
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(Math.min(wait, 50_000_000L));
    }
  }

  /**
   * Waits until {@code target} records were consumed and, when {@code accounted}, every ledger row
   * balances too — both read from one snapshot of the ledger.
   */
  private boolean awaitConsumed(long target, Duration timeout, boolean accounted) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline && !stop.get()) {
      try (Connection c = stack.admin()) {
        CommittedRows.LedgerTotals l = CommittedRows.ledgerTotals(c, generation);
        if (l.consumed() >= target && (!accounted || l.unbalancedRows() == 0)) {
          return true;
        }
      } catch (Exception e) {
        // PostgreSQL may be down on purpose; keep waiting
      }
      Thread.sleep(1000);
    }
    return false;
  }

  private void inject(Fault fault) throws Exception {
    log("INJECT %s: %s", fault.cliName, fault.description);
    switch (fault) {
      case HOSTILE_INPUT -> injectHostileInput();
      case WRITER_REVOKED -> revokeTheWriterUntilTheAuditSeesIt();
      case TASKMANAGER_KILL -> stack.killAndRestartTaskManager();
      case JOBMANAGER_KILL -> {
        stack.killAndRestartJobManager();
        Path checkpoint =
            stack
                .latestCheckpoint(jobId)
                .orElseThrow(() -> new IllegalStateException("no retained checkpoint of " + jobId));
        log("JobManager restarted; resuming from %s", checkpoint);
        jobId =
            flink.submit( // the new JobManager has no uploaded jars
                jobJar,
                dev.tally.jobs.IngestionJob.class.getName(),
                jobArgs,
                checkpoint.toUri().toString());
        log("job resumed as %s", jobId);
      }
      case KAFKA_RESTART -> stack.restartKafka(Duration.ofSeconds(5));
      case POSTGRES_RESTART -> stack.restartPostgres(Duration.ofSeconds(5));
      case CHECKPOINT_FAILURE -> stack.pauseTaskManager(CHECKPOINT_TIMEOUT.plusSeconds(4));
      case CRASH_AFTER_PREPARE -> {
        awaitPrepared();
        stack.killAndRestartTaskManager();
      }
      case UPGRADE_BLUE_GREEN, UPGRADE_BLUE_GREEN_ABORT -> {
        boolean sabotage = fault == Fault.UPGRADE_BLUE_GREEN_ABORT;
        String green = generation + (sabotage ? "x" : "g");
        var result =
            new dev.tally.savepoints.upgrade.BlueGreenUpgrade(
                    flink, stack::admin, stack.layout().kafkaBootstrap(), out)
                .run(
                    jobId,
                    generation,
                    green,
                    jobJar,
                    dev.tally.savepoints.upgrade.BlueGreenUpgrade.GreenStart.SAVEPOINT,
                    g -> {
                      List<String> args = argsOf(g);
                      if (sabotage) {
                        args =
                            JobArgs.parse(args)
                                .set(JobOptions.POSTGRES_PASSWORD_FILE, "/nonexistent/pw")
                                .toList();
                      }
                      return args;
                    },
                    this::auditTarget,
                    stack.layout().dir().resolve("flink/savepoints").toUri().toString(),
                    Duration.ofSeconds(60),
                    Duration.ofMinutes(3));
        try (Connection c = stack.admin()) {
          String active = GenerationRegistry.active(c);
          if (sabotage) {
            if (result.flipped() || !generation.equals(active)) {
              throw new IllegalStateException("the sabotaged green was not aborted: " + result);
            }
            log("aborted as it must: %s; blue %s stays active", result.problems(), active);
          } else {
            if (!result.flipped() || !green.equals(active)) {
              throw new IllegalStateException("blue/green failed: " + result.problems());
            }
            jobId = result.jobId();
            generation = green;
            jobArgs = argsOf(green);
            log(
                "flipped to green %s (job %s); blue kept at %s",
                green, jobId, result.blueSavepoint());
          }
        }
      }
      case UPGRADE_IN_PLACE -> {
        var result =
            new dev.tally.savepoints.upgrade.InPlaceUpgrade(flink, out)
                .run(
                    jobId,
                    jobJar,
                    jobJar,
                    jobArgs,
                    stack.layout().dir().resolve("flink/savepoints").toUri().toString(),
                    Duration.ofSeconds(60));
        if (!result.upgraded()) {
          throw new IllegalStateException("upgrade failed: " + result.problems());
        }
        jobId = result.jobId();
        log(
            "upgraded in place: job %s runs generation %s from %s",
            jobId, generation, result.savepoint());
      }
    }
    log("%s done; the job recovers on its own", fault.cliName);
  }

  /** Waits until this generation has a prepared, not yet committed transaction. */
  private void awaitPrepared() throws Exception {
    try (Connection c = stack.admin();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE ?")) {
      ps.setString(1, TransactionIds.generationPattern(generation));
      String gid =
          Poll.until(
              Duration.ofSeconds(30),
              Duration.ofMillis(5),
              () -> {
                try (ResultSet rs = ps.executeQuery()) {
                  return rs.next() ? rs.getString(1) : null;
                }
              });
      if (gid == null) {
        throw new IllegalStateException("no prepared transaction seen within 30 s");
      }
      log("prepared transaction %s awaits COMMIT PREPARED: crashing now", gid);
    }
  }

  private void stopWithSavepoint() throws Exception {
    JobSubmission.awaitRunning(flink, jobId, Duration.ofMinutes(1));
    String path =
        new SavepointOperations(flink, out, Duration.ofMinutes(2))
            .stop(jobId, stack.layout().dir().resolve("flink/savepoints").toUri().toString());
    jobStopped = true;
    log("job stopped with savepoint %s", path);
  }

  /** Hostile records join the traffic (and its expectation); the job must keep checkpointing. */
  private void injectHostileInput() throws Exception {
    // At the traffic's own event time: stamped with the wall clock (ahead of the generator's time)
    // they would advance the watermark and make the traffic after them too late (seen in a run).
    long trafficTime;
    synchronized (sent) {
      trafficTime = sent.stream().mapToLong(GeneratedEvent::timestampMillis).max().orElseThrow();
    }
    List<GeneratedEvent> hostile =
        dev.tally.cli.traffic.HostileTraffic.events(trafficTime, System.nanoTime());
    long before = flink.lastCompletedCheckpoint(jobId);
    try (TrafficProducer p = new TrafficProducer(stack.layout().kafkaBootstrap())) {
      for (GeneratedEvent e : hostile) {
        p.send(e);
        sent.add(e);
      }
    }
    extraEvents += hostile.size();
    Boolean goesOn =
        Poll.until(
            Duration.ofSeconds(60),
            Duration.ofMillis(500),
            () -> {
              if (flink.jobState(jobId) != JobStatus.RUNNING) {
                throw new IllegalStateException(
                    "the job left RUNNING after hostile input: " + flink.rootException(jobId));
              }
              return flink.lastCompletedCheckpoint(jobId) >= before + 3 ? Boolean.TRUE : null;
            });
    if (goesOn != null) {
      log("hostile input: %d records sent, job RUNNING, checkpoints go on", hostile.size());
      return;
    }
    throw new IllegalStateException("no checkpoint completed within 60 s after hostile input");
  }

  /** The seed incident: the writer loses its grant; the audit must notice, nothing is lost. */
  private void revokeTheWriterUntilTheAuditSeesIt() throws Exception {
    Duration stallAfter = Duration.ofSeconds(15);
    long start = System.nanoTime();
    // Only rows need the revoked grant: with no traffic a checkpoint commits its progress row and
    // nothing stalls (seen when `--fault all` ran the traffic out before this fault). So the drill
    // keeps records flowing while the grant is gone, and expects them like the rest.
    AtomicBoolean revoked = new AtomicBoolean(true);
    Thread traffic = sideTraffic(revoked);
    try (Connection c = stack.admin();
        java.sql.Statement s = c.createStatement()) {
      s.execute("REVOKE INSERT ON tally.event_counts FROM tally_writer");
      traffic.start();
      try {
        Audit.Check stall =
            Poll.until(
                Duration.ofSeconds(60),
                Duration.ofSeconds(1),
                () -> {
                  Audit.Check first =
                      dev.tally.savepoints.audit.Stalls.checks(
                              c,
                              generation,
                              stack.layout().kafkaBootstrap(),
                              Topics.RAW,
                              stallAfter,
                              new dev.tally.savepoints.audit.Stalls.JobHealth(
                                  jobId, flink.jobState(jobId), flink.rootException(jobId)),
                              Instant.now())
                          .get(0);
                  return first.ok() ? null : first;
                });
        if (stall != null) {
          log(
              "writer revoked: the audit saw the stall after %.1f s: %s",
              (System.nanoTime() - start) / 1e9, stall.actual());
          return;
        }
        throw new IllegalStateException("the audit did not see the revoked writer within 60 s");
      } finally {
        revoked.set(false);
        traffic.join();
        s.execute("GRANT INSERT ON tally.event_counts TO tally_writer");
        log("writer's grant restored");
      }
    }
  }

  /**
   * Records sent at the traffic's pace until {@code running} turns false, starting at the traffic's
   * newest event time (so that none is too late) and counted in {@link #extraEvents}.
   */
  private Thread sideTraffic(AtomicBoolean running) {
    long trafficTime;
    synchronized (sent) {
      trafficTime =
          sent.stream()
              .mapToLong(GeneratedEvent::timestampMillis)
              .max()
              .orElse(System.currentTimeMillis() - 600_000);
    }
    TrafficGenerator side =
        new TrafficGenerator(
            System.nanoTime(), Instant.ofEpochMilli(trafficTime), eventTimeRate, 500);
    return new Thread(
        () -> {
          long t0 = System.nanoTime();
          long n = 0;
          try (TrafficProducer p = new TrafficProducer(stack.layout().kafkaBootstrap())) {
            while (running.get() && !stop.get()) {
              GeneratedEvent e = side.next();
              p.send(e);
              sent.add(e);
              n++;
              pace(n, sendRate, t0);
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          } finally {
            extraEvents += n; // read after join()
            log("%,d records sent while the grant was gone", n);
          }
        },
        "drill-side-traffic");
  }

  private boolean verify(long events, String generation) throws Exception {
    events += extraEvents;
    List<GeneratedEvent> all = new ArrayList<>(sent);
    long valid = all.stream().filter(e -> e.kind() == GeneratedEvent.Kind.VALID).count();
    List<String[]> results = new ArrayList<>();
    boolean ok = true;
    try (Connection c = stack.admin()) {
      CommittedRows.LedgerTotals ledger = CommittedRows.ledgerTotals(c, generation);
      Map<String, String> expected = ExpectedCounts.eventCounts(all);
      Map<String, String> actual = ExpectedCounts.committed(c, generation);
      long differing =
          expected.entrySet().stream()
                  .filter(e -> !e.getValue().equals(actual.get(e.getKey())))
                  .count()
              + actual.keySet().stream().filter(k -> !expected.containsKey(k)).count();
      ok &=
          add(
              results,
              "event_counts rows equal the expectation exactly",
              differing == 0,
              String.format(
                  "%,d rows expected, %,d committed, %d differ",
                  expected.size(), actual.size(), differing));
      ok &=
          add(
              results,
              "ledger: consumed = events sent",
              ledger.consumed() == events,
              String.format("%,d of %,d", ledger.consumed(), events));

      Map<String, Integer> uuids;
      String parent = GenerationCopy.parent(c, generation);
      Map<String, Integer> parentUuids = Map.of();
      try (KafkaCounts kafka = new KafkaCounts(stack.layout().kafkaBootstrap())) {
        uuids = kafka.enrichedUuids(Topics.ENRICHED, generation);
        if (parent != null) {
          parentUuids = kafka.enrichedUuids(Topics.ENRICHED, parent);
        }
      }
      long twice = uuids.values().stream().filter(n -> n > 1).count();
      Map<String, Integer> own = uuids;
      Map<String, Integer> inherited = parentUuids;
      long validUuids =
          all.stream()
              .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
              .map(GeneratedEvent::uuid)
              .filter(u -> own.containsKey(u) || inherited.containsKey(u))
              .count();
      if (parent == null) {
        ok &=
            add(
                results,
                "enriched topic holds each valid event exactly once",
                validUuids == valid && uuids.size() == valid && twice == 0,
                String.format(
                    "%,d valid sent, %,d distinct in topic, %d more than once",
                    valid, uuids.size(), twice));
      } else {
        // Started from blue's savepoint: green enriched what came after it, blue what came before
        // (and, until it stopped, after). The audit checks green's share against its ledger.
        ok &=
            add(
                results,
                "enriched topic: every valid event in "
                    + generation
                    + "'s or its parent "
                    + parent
                    + "'s output, none twice in "
                    + generation
                    + "'s",
                validUuids == valid && twice == 0,
                String.format(
                    "%,d valid sent, %,d found, %d more than once", valid, validUuids, twice));
      }

      Audit.Report audit = Audit.run(c, auditTarget(generation), 3, Duration.ofSeconds(2));
      for (Audit.Check check : audit.checks()) {
        ok &= add(results, "audit: " + check.name(), check.ok(), check.actual());
      }
      long prepared;
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database() AND gid LIKE ?")) {
        ps.setString(1, TransactionIds.generationPattern(generation));
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          prepared = rs.getLong(1);
        }
      }
      ok &=
          add(
              results,
              "no prepared transaction of the generation left",
              prepared == 0,
              Long.toString(prepared));
    }
    ok &=
        add(
            results,
            "what analysts saw never went back: final minute totals only grew",
            analystTotalDecreases.isEmpty(),
            analystSamples
                + " samples, last total "
                + analystLastTotal
                + (analystTotalDecreases.isEmpty()
                    ? ""
                    : ", decreases: " + String.join("; ", analystTotalDecreases)));
    List<String> openTransactions = openKafkaTransactions();
    ok &=
        add(
            results,
            "no open Kafka transaction of the generation",
            openTransactions.isEmpty(),
            openTransactions.isEmpty() ? "none" : String.join(", ", openTransactions));
    out.println();
    out.println("checks:");
    for (String[] r : results) {
      out.printf("  %s %-70s %s%n", r[0], r[1], r[2]);
    }
    out.println(ok ? "DRILL PASSED" : "DRILL FAILED");
    return ok;
  }

  private static boolean add(List<String[]> results, String name, boolean ok, String detail) {
    results.add(new String[] {ok ? "ok  " : "FAIL", name, detail});
    return ok;
  }

  private List<String> openKafkaTransactions() throws Exception {
    try (Admin admin =
        Admin.create(
            Map.of(
                CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, stack.layout().kafkaBootstrap()))) {
      List<String> open = new ArrayList<>();
      for (TransactionListing t : admin.listTransactions().all().get(30, TimeUnit.SECONDS)) {
        if (t.transactionalId().startsWith("tally-" + generation + "-")
            && (t.state() == TransactionState.ONGOING
                || t.state() == TransactionState.PREPARE_COMMIT
                || t.state() == TransactionState.PREPARE_ABORT)) {
          open.add(t.transactionalId() + " " + t.state());
        }
      }
      return open;
    }
  }
}
