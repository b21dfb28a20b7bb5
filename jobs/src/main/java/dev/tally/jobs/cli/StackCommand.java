package dev.tally.jobs.cli;

import dev.tally.jobs.stack.LocalStack;
import dev.tally.jobs.stack.StackLayout;
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

    @Override
    public Integer call() throws Exception {
      StackLayout layout = options.layoutForUp();
      System.out.println("starting the local stack in " + layout.dir() + " …");
      try {
        new LocalStack(layout, StackOptions.home(), System.out).up();
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
      description = "Stop what 'stack up' started.")
  static final class Down implements Callable<Integer> {
    @Mixin StackOptions options;

    @Override
    public Integer call() throws Exception {
      LocalStack stack = options.existingStack();
      List<String> stopped = stack.down();
      System.out.println(
          stopped.isEmpty() ? "nothing was running" : "stopped: " + String.join(", ", stopped));
      return 0;
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
      for (String[] row : stack.status()) {
        System.out.printf("  %-20s %-5s %s%n", row[0], row[1], row[2]);
        allUp &= "up".equals(row[1]);
      }
      StackLayout l = stack.layout();
      System.out.println();
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
