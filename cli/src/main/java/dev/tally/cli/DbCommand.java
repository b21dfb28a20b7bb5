package dev.tally.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "db",
    mixinStandardHelpOptions = true,
    description = "Database maintenance of the local stack.",
    subcommands = {DbCommand.Migrate.class})
public final class DbCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(
        spec.commandLine(), "missing a subcommand: migrate");
  }

  @Command(
      name = "migrate",
      mixinStandardHelpOptions = true,
      description = "Apply sql/migrations (Flyway) as the database owner.")
  static final class Migrate implements Callable<Integer> {
    @Mixin StackOptions options;

    @Override
    public Integer call() throws Exception {
      int applied = options.existingStack().migrate();
      System.out.println(
          applied == 0 ? "schema is up to date" : "applied " + applied + " migration(s)");
      return 0;
    }
  }
}
