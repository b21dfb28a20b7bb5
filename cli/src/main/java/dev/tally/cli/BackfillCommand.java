package dev.tally.cli;

import dev.tally.cli.demo.Topics;
import dev.tally.cli.stack.LocalStack;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.upgrade.Backfill;
import dev.tally.sinks.postgres.GenerationRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "backfill",
    mixinStandardHelpOptions = true,
    description = {
      "Repair a range: recount the events of the whole hours [--from, --to) as a new, bounded generation on the local stack; when it finishes, audit it and only then show analysts its rows for the windows in that range (the live generation's everywhere else, with the live freshness). The range must be final in the live generation. Where two applied ranges overlap, the later wins; --rollback stops showing one.",
      "--replace instead makes the backfill the active generation (a rebuild of everything).",
      "A failed, unfinished, empty or unbalanced backfill is reported (exit 1) and never shown."
    })
public final class BackfillCommand implements Callable<Integer> {
  @Mixin JobCommands.Cluster cluster;

  @Option(names = "--from", paramLabel = "INSTANT", description = "e.g. 2026-11-23T00:00:00Z")
  String from;

  @Option(names = "--to", paramLabel = "INSTANT", description = "exclusive")
  String to;

  @Option(
      names = "--generation",
      required = true,
      paramLabel = "G",
      description = "[a-z0-9]{1,20}, new")
  String generation;

  @Option(names = "--no-flip", description = "audit only; change nothing analysts see")
  boolean noFlip;

  @Option(
      names = "--replace",
      description = "make the backfill the active generation instead of repairing its range")
  boolean replace;

  @Option(
      names = "--rollback",
      description = "stop showing the range of backfill --generation (nothing else changes)")
  boolean rollback;

  @Option(names = "--jar", paramLabel = "JAR", description = "job jar (default: jobs/target)")
  Path jar;

  @Option(
      names = "--deadline",
      converter = Durations.class,
      defaultValue = "30m",
      paramLabel = "DURATION",
      description = "longest the backfill may run (default ${DEFAULT-VALUE})")
  Duration deadline;

  @Override
  public Integer call() throws Exception {
    if (rollback) {
      UserFacingErrors.requireGeneration("--generation", generation);
      try (var c = cluster.stack.existingStack().admin()) {
        if (!dev.tally.sinks.postgres.GenerationRanges.rollBack(c, generation)) {
          throw new UserFacingErrors.UsageError(
              "generation " + generation + " has no applied backfill range");
        }
      }
      System.out.println(
          "rolled back: analysts no longer see backfill "
              + generation
              + "; its range shows the earlier backfill or the live generation again");
      return 0;
    }
    if (from == null || to == null) {
      throw new UserFacingErrors.UsageError("--from and --to are required (or --rollback)");
    }
    Instant start;
    Instant end;
    try {
      start = Instant.parse(from);
      end = Instant.parse(to);
    } catch (DateTimeParseException e) {
      throw new UserFacingErrors.UsageError(
          "--from/--to must be instants like 2026-11-23T00:00:00Z");
    }
    if (!start.isBefore(end)) {
      throw new UserFacingErrors.UsageError("--from must be before --to");
    }
    UserFacingErrors.requireGeneration("--generation", generation);
    LocalStack stack = cluster.stack.existingStack();
    try (var c = stack.admin()) {
      if (GenerationRegistry.isRegistered(c, generation)) {
        throw new UserFacingErrors.UsageError("generation " + generation + " already exists");
      }
    }
    Path jobJar = jar != null ? jar : JobSubmission.jobJar(StackOptions.home());
    List<String> args = stack.layout().jobArgs(generation, Duration.ofSeconds(2), "earliest");
    Backfill.Result r =
        new Backfill(cluster.flink(), stack::admin, System.out)
            .run(
                jobJar,
                args,
                new Backfill.Range(
                    generation,
                    start,
                    end,
                    stack.layout().kafkaBootstrap(),
                    Topics.RAW,
                    Topics.ENRICHED,
                    Topics.DEAD_LETTER),
                noFlip
                    ? Backfill.Apply.NONE
                    : replace ? Backfill.Apply.REPLACE : Backfill.Apply.RANGE,
                deadline);
    if (r.problems().isEmpty()) {
      System.out.println(
          r.flipped()
              ? "backfill " + generation + " is complete, audited and shown to analysts"
              : "backfill " + generation + " is complete and audited (not shown: --no-flip)");
      return 0;
    }
    System.out.println("BACKFILL " + generation + " NOT SHOWN TO ANALYSTS:");
    r.problems().forEach(p -> System.out.println("  - " + p));
    return 1;
  }
}
