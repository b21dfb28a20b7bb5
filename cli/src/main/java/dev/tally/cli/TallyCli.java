package dev.tally.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ./tally} command line. User mistakes exit 2 with one line; failures exit 1. */
@Command(
    name = "tally",
    mixinStandardHelpOptions = true,
    version = "tally 0.1.0",
    description = "Exactly-once, freshness-stamped event analytics on Apache Flink.",
    subcommands = {
      DemoCommand.class,
      DashboardCommand.class,
      ReplayCommand.class,
      StackCommand.class,
      GenerateCommand.class,
      ProduceCommand.class,
      CaptureCommand.class,
      AuditCommand.class,
      DrillCommand.class,
      BenchCommand.class,
      InspectCommand.class,
      CheckCommand.class,
      UpgradeCommand.class,
      BackfillCommand.class,
      RollbackCommand.class,
      BootstrapPersonsCommand.class,
      FreshnessCommand.class,
      ExportCommand.class,
      JobCommands.Jobs.class,
      JobCommands.Savepoint.class,
      JobCommands.Stop.class,
      JobCommands.Cancel.class,
      JobCommands.Release.class,
      JobCommands.Deploy.class,
      DbCommand.class
    })
public final class TallyCli implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing a command");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new TallyCli());
    cli.setParameterExceptionHandler(
        (ex, a) -> {
          CommandLine c = ex.getCommandLine();
          c.getErr().println("tally: " + ex.getMessage());
          c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help'.");
          return 2;
        });
    cli.setExecutionExceptionHandler(
        (ex, c, parsed) -> {
          c.getErr().println("tally: " + UserFacingErrors.describe(ex));
          return ex instanceof UserFacingErrors.UsageError ? 2 : 1;
        });
    return cli.execute(args);
  }
}
