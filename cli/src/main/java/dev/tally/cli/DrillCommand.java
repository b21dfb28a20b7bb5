package dev.tally.cli;

import dev.tally.cli.drill.Drill;
import dev.tally.cli.drill.Fault;
import dev.tally.cli.stack.LocalStack;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.JobSubmission;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "drill",
    mixinStandardHelpOptions = true,
    description = {
      "Inject a fault on the local stack while known traffic flows, then verify: aggregates equal",
      "the independently computed expectation exactly, the enriched topic holds each valid event",
      "once, the audit is clean, and no prepared or open Kafka transaction is left. Exit 1 on any",
      "difference. Faults: taskmanager-kill, jobmanager-kill, kafka-restart, postgres-restart,",
      "checkpoint-failure, crash-after-prepare, upgrade-in-place, upgrade-blue-green,",
      "upgrade-blue-green-abort, backfill, hostile-input, writer-revoked, all."
    })
public final class DrillCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(
      names = "--fault",
      required = true,
      paramLabel = "F",
      description = "the fault to inject, a comma-separated list of them, or all")
  String fault;

  @Option(
      names = "--events",
      paramLabel = "N",
      defaultValue = "20000",
      description = "events to send (default ${DEFAULT-VALUE})")
  long events;

  @Option(names = "--keep", description = "leave the stack running at the end")
  boolean keep;

  @Option(
      names = "--job-option",
      paramLabel = "KEY=VALUE",
      description =
          "a job option (tally.* or a Flink option) for the drilled job and its upgrades"
              + " (repeatable; printed at the start); a backfill recounts with the defaults")
  List<String> jobOptions;

  @Override
  public Integer call() throws Exception {
    List<Fault> faults;
    try {
      faults = Fault.parse(fault);
    } catch (IllegalArgumentException e) {
      throw new UserFacingErrors.UsageError("--fault: " + e.getMessage());
    }
    if (events < 1000) {
      throw new UserFacingErrors.UsageError(
          "--events must be at least 1000 so faults land mid-stream");
    }
    java.util.Map<String, String> options = JobOptionArgs.parse(jobOptions);
    StackOptions.Session session = stackOptions.upIfNeeded();
    LocalStack stack = session.stack();
    FlinkRest flink = new HttpFlinkRest(stack.layout().flinkRestUrl(), Duration.ofSeconds(20));
    AtomicBoolean stop = new AtomicBoolean();
    Drill drill = new Drill(stack, flink, System.out, stop).withJobOptions(options);
    boolean ok =
        StackOptions.withCleanUp(
            stop,
            () -> cleanUp(stack, flink, drill, session.started()),
            () -> drill.run(faults, events, JobSubmission.jobJar(StackOptions.home())));
    return ok ? 0 : 1;
  }

  private void cleanUp(LocalStack stack, FlinkRest flink, Drill drill, boolean startedStack) {
    try {
      String job = drill.runningJob();
      if (job != null) {
        flink.cancel(job);
        JobSubmission.awaitTerminal(flink, job, Duration.ofSeconds(30));
        try (Connection admin = stack.admin()) {
          dev.tally.savepoints.upgrade.ReleaseGeneration.release(
              admin, stack.layout().kafkaBootstrap(), drill.generation());
        }
      }
      if (startedStack && !keep) {
        System.out.println("stopped: " + String.join(", ", stack.down()));
      }
    } catch (Exception e) {
      System.err.println("tally: drill cleanup failed: " + UserFacingErrors.describe(e));
    }
  }
}
