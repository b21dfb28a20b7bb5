package dev.tally.cli;

import dev.tally.cli.dashboard.DashboardServer;
import dev.tally.cli.demo.CaptureTraffic;
import dev.tally.cli.demo.Dashboard;
import dev.tally.cli.demo.Topics;
import dev.tally.cli.demo.TrafficProducer;
import dev.tally.cli.demo.TrafficSink;
import dev.tally.cli.stack.LocalStack;
import dev.tally.cli.stack.StackLayout;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.Poll;
import dev.tally.savepoints.audit.Audit;
import java.io.PrintStream;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "The embedded default: start the local stack, run the ingestion job on it, generate traffic",
      "and show a live, freshness-stamped dashboard. With --events N: wait until all N events are",
      "accounted for, print the final dashboard and accounting, and exit (0 when the numbers match",
      "what was sent). Ctrl-C stops everything."
    })
public final class DemoCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(
      names = "--events",
      paramLabel = "N",
      description = "send N events, wait until all are accounted for, then exit")
  Long events;

  @Option(
      names = "--rate",
      paramLabel = "R",
      defaultValue = "200",
      description = "events per second without --events (default ${DEFAULT-VALUE})")
  double rate;

  /** How the demo traffic reaches events_raw. */
  enum Via {
    kafka,
    capture
  }

  @Option(
      names = "--via",
      paramLabel = "PATH",
      defaultValue = "kafka",
      description =
          "kafka: straight into events_raw; capture: through the PostHog-compatible capture"
              + " endpoint, as an SDK sends (default ${DEFAULT-VALUE})")
  Via via;

  @Option(names = "--keep", description = "leave the stack and the job running at the end")
  boolean keep;

  @Option(
      names = "--dashboard-port",
      paramLabel = "PORT",
      defaultValue = "" + DashboardCommand.DEFAULT_PORT,
      description =
          "port of the live dashboard page on 127.0.0.1 (default ${DEFAULT-VALUE}; taken: any free"
              + " one)")
  int dashboardPort;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      converter = Durations.class,
      defaultValue = "5m",
      description =
          "how long to wait for all events to be accounted for (default ${DEFAULT-VALUE})")
  Duration timeout;

  private final PrintStream out = System.out;
  private DashboardServer dashboard;

  /** The live page, served while the demo runs (as the analyst login). */
  private DashboardServer dashboard(LocalStack stack, StackLayout layout) throws Exception {
    DashboardServer.Kafka kafka =
        new DashboardServer.Kafka(layout.kafkaBootstrap(), Topics.DEAD_LETTER);
    DashboardServer d;
    try {
      d = DashboardServer.start(stack::analyst, kafka, dashboardPort);
    } catch (java.net.BindException e) {
      d = DashboardServer.start(stack::analyst, kafka, 0);
    }
    out.println("dashboard  " + d.url());
    return d;
  }

  @Override
  public Integer call() throws Exception {
    if (events != null && events <= 0) {
      throw new UserFacingErrors.UsageError("--events must be positive");
    }
    if (rate <= 0) {
      throw new UserFacingErrors.UsageError("--rate must be positive");
    }
    StackLayout saved = StackLayout.load(stackOptions.stackDir());
    LocalStack stack =
        new LocalStack(
            saved != null ? saved : stackOptions.layoutForUp(), StackOptions.home(), out);
    boolean startedStack = !stack.isUp();
    AtomicBoolean stop = new AtomicBoolean();
    Cleanup cleanup = new Cleanup(stack, startedStack);
    Thread hook =
        new Thread(
            () -> {
              stop.set(true);
              cleanup.run();
            },
            "tally-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      if (startedStack) {
        out.println("starting the local stack (Kafka, PostgreSQL, Flink) …");
        try {
          stack.up();
        } catch (LocalStack.PortTakenException e) {
          throw new UserFacingErrors.UsageError(e.getMessage());
        }
      }
      StackLayout layout = stack.layout();
      Topics.ensure(layout.kafkaBootstrap(), 2);
      String generation = "demo" + Long.toString(Instant.now().getEpochSecond(), 36);
      // The demo's generation reads only what the demo sends, not what earlier runs left.
      long readFrom = System.currentTimeMillis() - 1000;
      List<String> jobArgs =
          layout.jobArgs(generation, Duration.ofSeconds(2), "timestamp:" + readFrom);
      try (Connection admin = stack.admin()) {
        JobSubmission.activateGeneration(admin, generation, jobArgs);
      }
      FlinkRest flink = new HttpFlinkRest(layout.flinkRestUrl(), Duration.ofSeconds(20));
      String jobId =
          JobSubmission.submit(flink, JobSubmission.jobJar(StackOptions.home()), jobArgs, out);
      cleanup.job(flink, jobId, generation);
      out.println(
          "job "
              + jobId
              + " is running as generation "
              + generation
              + "; web UI "
              + layout.flinkRestUrl());

      dashboard = dashboard(stack, layout);
      int exit =
          events != null
              ? runBounded(stack, layout, generation, stop)
              : runLive(stack, layout, stop);
      if (keep) {
        out.println(
            "--keep: the stack and the job keep running; stop them with ./tally stack down;"
                + " ./tally dashboard serves the page again");
      }
      return exit;
    } finally {
      if (dashboard != null) {
        dashboard.close();
      }
      if (!stop.get()) {
        cleanup.run();
        Runtime.getRuntime().removeShutdownHook(hook);
      }
    }
  }

  private int runBounded(
      LocalStack stack, StackLayout layout, String generation, AtomicBoolean stop)
      throws Exception {
    // Event times span the last 30 minutes, so the dashboard shows a history of windows.
    TrafficGenerator generator =
        new TrafficGenerator(
            System.nanoTime(), Instant.now().minus(Duration.ofMinutes(30)), events / 1800.0, 500);
    long valid;
    long duplicates;
    long invalid;
    long resent =
        0; // records of batches sent again after a 503 (capture only): maybe twice in Kafka
    try (TrafficSink producer = traffic(layout)) {
      out.printf(
          "producing %,d events to %s%s …%n",
          events, Topics.RAW, via == Via.capture ? " through " + layout.captureUrl() : "");
      producer.sendAll(generator, events, 0, stop, out);
      valid = producer.sent(GeneratedEvent.Kind.VALID);
      duplicates = producer.sent(GeneratedEvent.Kind.DUPLICATE);
      invalid = producer.sent(GeneratedEvent.Kind.INVALID);
      if (producer instanceof CaptureTraffic c) {
        out.printf(
            "  through capture: %,d records that are not events (junk bytes) cannot go over HTTP"
                + " and were not sent; %,d requests sent again after a 503%n",
            c.notSendable(), c.retries());
        resent = c.resentRecords();
      }
    }
    events = valid + duplicates + invalid; // what went in: the expectation covers exactly that
    out.printf(
        "sent %,d events: %,d valid, %,d retries (duplicates), %,d invalid%n",
        events, valid, duplicates, invalid);

    Dashboard.Ledger ledger;
    try (Connection c = stack.admin()) {
      long sentEvents = events;
      long sentValid = valid;
      Dashboard.Ledger[] last = {null};
      ledger =
          Poll.until(
              timeout,
              Duration.ofSeconds(2),
              () -> {
                Dashboard.Ledger l = last[0] = Dashboard.ledger(c);
                if ((l.consumed() >= sentEvents && l.aggregated() >= sentValid) || stop.get()) {
                  return l;
                }
                out.printf(
                    "  waiting: %,d of %,d events accounted for%n", l.consumed(), sentEvents);
                return null;
              });
      if (ledger == null) {
        out.printf(
            "timed out after %s: only %,d of %,d events are accounted for%n",
            timeout, last[0].consumed(), events);
        return 1;
      }
      Dashboard.print(c, out, "final dashboard");
    }
    if (stop.get() && (ledger.consumed() < events || ledger.aggregated() < valid)) {
      // Ctrl-C before the job accounted for everything: no verdict on a run that did not finish
      out.printf(
          "%ninterrupted: %,d of %,d events were accounted for when you stopped the demo; the rest"
              + " stay in %s (the job is cancelled and nothing is left open); not checked%n",
          ledger.consumed(), events, Topics.RAW);
      return 130;
    }
    // A batch answered 503 may have been partly stored before it was sent again: those records
    // are in Kafka twice, counted as duplicates (valid) or dead letters (invalid) — at most the
    // resent ones. Everything else must match exactly.
    long twice = ledger.consumed() - events;
    boolean matches =
        ledger.balances()
            && twice >= 0
            && twice <= resent
            && ledger.aggregated() == valid
            && (ledger.duplicates() - duplicates) + (ledger.deadLettered() - invalid) == twice
            && ledger.duplicates() >= duplicates
            && ledger.deadLettered() >= invalid
            && ledger.tooLate() == 0;
    out.println();
    out.println("accounting: " + ledger.line());
    out.printf(
        "expected:   consumed %,d = aggregated %,d + duplicates %,d + too_late 0 + dead_lettered %,d  %s%n",
        events,
        valid,
        duplicates,
        invalid,
        matches ? "✓ every event accounted for exactly once" : "✗ MISMATCH");
    Audit.Report audit;
    try (Connection c = stack.admin()) {
      audit =
          Audit.run(
              c,
              new Audit.Target(
                  generation,
                  layout.kafkaBootstrap(),
                  Topics.RAW,
                  Topics.ENRICHED,
                  Topics.DEAD_LETTER,
                  Duration.ofSeconds(30)),
              5,
              Duration.ofSeconds(2));
    }
    out.println("audit:      " + (audit.ok() ? "✓ all checks hold" : "✗ VIOLATIONS"));
    for (Audit.Check check : audit.checks()) {
      out.printf("  %s %s: %s%n", check.ok() ? "ok  " : "FAIL", check.name(), check.actual());
    }
    return matches && audit.ok() ? 0 : 1;
  }

  private TrafficSink traffic(StackLayout layout) {
    return via == Via.capture
        ? new CaptureTraffic(layout.captureUrl())
        : new TrafficProducer(layout.kafkaBootstrap());
  }

  private int runLive(LocalStack stack, StackLayout layout, AtomicBoolean stop) throws Exception {
    TrafficGenerator generator = new TrafficGenerator(System.nanoTime(), Instant.now(), rate, 500);
    Thread producerThread =
        new Thread(
            () -> {
              try (TrafficSink producer = traffic(layout)) {
                producer.sendAll(generator, -1, rate, stop, null);
              }
            },
            "tally-demo-traffic");
    producerThread.setDaemon(true);
    producerThread.start();
    boolean tty = System.console() != null;
    try (Connection c = stack.admin()) {
      while (!stop.get()) {
        if (tty) {
          out.print("\033[H\033[2J");
        }
        Dashboard.print(c, out, String.format("Tally demo — %.0f events/s — Ctrl-C to stop", rate));
        out.println(
            "dashboard  "
                + dashboard.url()
                + " · web UI "
                + layout.flinkRestUrl()
                + " · logs "
                + layout.logs());
        Thread.sleep(3000);
      }
    }
    return 0;
  }

  /** Stops the job and, if this command started it, the stack; once, from wherever it runs. */
  private final class Cleanup implements Runnable {
    private final LocalStack stack;
    private final boolean stopStack;
    private FlinkRest flink;
    private String jobId;
    private String generation;
    private boolean done;

    Cleanup(LocalStack stack, boolean stopStack) {
      this.stack = stack;
      this.stopStack = stopStack;
    }

    synchronized void job(FlinkRest flink, String jobId, String generation) {
      this.flink = flink;
      this.jobId = jobId;
      this.generation = generation;
    }

    @Override
    public synchronized void run() {
      if (done || keep) {
        return;
      }
      done = true;
      try {
        if (jobId != null) {
          flink.cancel(jobId);
          JobSubmission.awaitTerminal(flink, jobId, Duration.ofSeconds(30));
          try (Connection admin = stack.admin()) {
            // Its open Kafka transactions would hide everything written after them from every
            // read_committed reader (the next demo's audit) until the transaction timeout.
            var released =
                dev.tally.savepoints.upgrade.ReleaseGeneration.release(
                    admin, stack.layout().kafkaBootstrap(), generation);
            out.println(
                "cancelled job "
                    + jobId
                    + " and released generation "
                    + generation
                    + ": "
                    + released);
          }
        }
        if (stopStack) {
          out.println("stopping the local stack …");
          out.println("stopped: " + String.join(", ", stack.down()));
        }
      } catch (Exception e) {
        System.err.println("tally: cleanup failed: " + UserFacingErrors.describe(e));
      }
    }
  }
}
