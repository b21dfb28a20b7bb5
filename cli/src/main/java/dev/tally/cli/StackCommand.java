package dev.tally.cli;

import dev.tally.cli.stack.LocalStack;
import dev.tally.cli.stack.StackLayout;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "stack",
    mixinStandardHelpOptions = true,
    description =
        "Run a real local stack: Kafka (KRaft), PostgreSQL 17 and a Flink session cluster with its web UI.",
    subcommands = {StackCommand.Up.class, StackCommand.Down.class, StackCommand.Status.class})
public final class StackCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "missing a subcommand: up, down or status");
  }

  @Command(
      name = "up",
      mixinStandardHelpOptions = true,
      description = "Start the stack (no-op when it is up).")
  static final class Up implements Callable<Integer> {
    @Mixin StackOptions options;

    @picocli.CommandLine.Option(
        names = "--capture-token",
        paramLabel = "TOKEN=PROJECT",
        description =
            "map a PostHog project token to a Tally project at the capture endpoint (repeatable;"
                + " kept in the stack's capture/tokens.properties). phc_local_<project> maps to"
                + " <project> without this.")
    java.util.Map<String, String> captureTokens = new java.util.LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
      StackLayout saved = StackLayout.load(options.stackDir());
      StackLayout layout = options.layoutForUp();
      LocalStack stack = new LocalStack(layout, StackOptions.home(), System.out);
      if (saved != null && stack.isUp()) {
        layout = saved;
        stack = new LocalStack(saved, StackOptions.home(), System.out);
      }
      try {
        dev.tally.capture.TokenMap.requireMappings(captureTokens, "--capture-token");
        stack.addCaptureTokens(captureTokens);
      } catch (IllegalArgumentException e) {
        throw new UserFacingErrors.UsageError(e.getMessage());
      }
      System.out.println("starting the local stack in " + layout.dir() + " …");
      try {
        stack.up();
      } catch (LocalStack.PortTakenException e) {
        throw new UserFacingErrors.UsageError(e.getMessage());
      }
      Status.print(new LocalStack(layout, StackOptions.home(), System.out));
      return 0;
    }
  }

  @Command(
      name = "down",
      mixinStandardHelpOptions = true,
      description =
          "Stop what 'stack up' started. A running Tally job is first stopped with a savepoint (printed: deploy --from-savepoint resumes it), so nothing is left open; if that fails it is cancelled and its generation released.")
  static final class Down implements Callable<Integer> {
    @Mixin StackOptions options;

    @Override
    public Integer call() throws Exception {
      LocalStack stack = options.existingStack();
      stopRunningJobs(stack);
      List<String> stopped = stack.down();
      System.out.println(
          stopped.isEmpty() ? "nothing was running" : "stopped: " + String.join(", ", stopped));
      return 0;
    }
  }

  /**
   * A job stopped only by its JobManager's end would leave its open Kafka transactions blocking
   * read_committed readers of the topics (until the transaction timeout, also after the next {@code
   * stack up}) and its last prepared PostgreSQL transaction holding locks.
   */
  static void stopRunningJobs(LocalStack stack) {
    if (!stack.isUp()) {
      return;
    }
    try {
      dev.tally.savepoints.FlinkRest flink =
          new dev.tally.savepoints.HttpFlinkRest(
              stack.layout().flinkRestUrl(), java.time.Duration.ofSeconds(20));
      for (dev.tally.savepoints.FlinkRest.JobSummary j : flink.jobs()) {
        if (!j.name().startsWith("tally-ingestion-")
            || j.state() != org.apache.flink.api.common.JobStatus.RUNNING) {
          continue;
        }
        String generation = j.name().substring("tally-ingestion-".length());
        try {
          String savepoint =
              new dev.tally.savepoints.SavepointOperations(
                      flink, System.out, java.time.Duration.ofMinutes(2))
                  .stop(
                      j.id(), stack.layout().dir().resolve("flink/savepoints").toUri().toString());
          System.out.println(
              "stopped job "
                  + j.id()
                  + " of generation "
                  + generation
                  + " with savepoint "
                  + savepoint);
        } catch (Exception e) {
          System.out.println(
              "stop with savepoint failed ("
                  + UserFacingErrors.describe(e)
                  + "): cancelling "
                  + j.id());
          flink.cancel(j.id());
          dev.tally.savepoints.JobSubmission.awaitTerminal(
              flink, j.id(), java.time.Duration.ofSeconds(60));
          JobCommands.release(stack, generation);
        }
      }
    } catch (Exception e) {
      System.err.println(
          "tally: could not stop the running jobs first: " + UserFacingErrors.describe(e));
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Show each part of the stack. Exit 0 only if all are up.")
  static final class Status implements Callable<Integer> {
    @Mixin StackOptions options;

    @Override
    public Integer call() throws Exception {
      return print(options.existingStack()) ? 0 : 1;
    }

    static boolean print(LocalStack stack) {
      boolean allUp = true;
      List<String[]> rows = stack.status();
      for (String[] row : rows) {
        System.out.printf("  %-20s %-5s %s%n", row[0], row[1], row[2]);
        allUp &= "up".equals(row[1]);
      }
      StackLayout l = stack.layout();
      System.out.println();
      // endpoint lines that scripts read (DESIGN.md §3): "<name>  <url>", from the first column
      if (rows.stream().anyMatch(r -> "capture".equals(r[0]) && "up".equals(r[1]))) {
        System.out.println("capture  " + l.captureUrl());
      }
      System.out.println("  web UI:   " + l.flinkRestUrl());
      System.out.println(
          "  analyst:  PGPASSWORD=\"$(cat "
              + l.analystPasswordFile()
              + ")\" psql -h localhost -p "
              + l.postgresPort()
              + " -U "
              + StackLayout.ANALYST_USER
              + " "
              + StackLayout.DATABASE);
      System.out.println("  logs:     " + l.logs());
      return allUp;
    }
  }
}
