package dev.tally.cli;

import dev.tally.cli.stack.LocalStack;
import dev.tally.jobs.IngestionJob;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.SavepointInspection;
import dev.tally.savepoints.SavepointOperations;
import dev.tally.sinks.postgres.GenerationRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "rollback",
    mixinStandardHelpOptions = true,
    description = {
      "Return to the previous version:",
      "stop the job that runs now with a savepoint (kept), start --jar as --generation from the savepoint the upgrade kept, wait until it runs and completes a checkpoint, then make that generation the one analysts see. After an in-place upgrade the generation is the same; after blue/green it is blue's."
    })
public final class RollbackCommand implements Callable<Integer> {
  @Mixin JobCommands.Cluster cluster;

  @Option(
      names = "--generation",
      required = true,
      paramLabel = "G",
      description = "generation to return to")
  String generation;

  @Option(
      names = "--from-savepoint",
      required = true,
      paramLabel = "PATH",
      description = "the savepoint the upgrade kept for rollback")
  String savepoint;

  @Option(
      names = "--jar",
      required = true,
      paramLabel = "JAR",
      description = "the previous job jar")
  Path jar;

  @Option(
      names = "--stop-job",
      paramLabel = "JOB",
      description = "the job running now, stopped with a savepoint first")
  String stopJob;

  @Override
  public Integer call() throws Exception {
    UserFacingErrors.requireGeneration("--generation", generation);
    UserFacingErrors.requireJar(jar);
    String restoreFrom;
    try {
      restoreFrom = SavepointInspection.metadata(savepoint).path();
    } catch (SavepointInspection.NotASavepoint e) {
      throw new UserFacingErrors.UsageError(e.getMessage());
    }
    LocalStack stack = cluster.stack.existingStack();
    FlinkRest flink = cluster.flink();
    if (stopJob != null) {
      String kept =
          new SavepointOperations(flink, System.out, cluster.timeout)
              .stop(stopJob, cluster.savepointDir(null));
      System.out.println("stopped " + stopJob + "; its savepoint: " + kept);
    }
    List<String> args = stack.layout().jobArgs(generation, Duration.ofSeconds(5), "earliest");
    String job = flink.submit(jar, IngestionJob.class.getName(), args, restoreFrom);
    String unhealthy = JobSubmission.awaitHealthy(flink, job, Duration.ofMinutes(2));
    if (unhealthy != null) {
      System.out.println("ROLLBACK FAILED: " + unhealthy);
      return 1;
    }
    try (Connection c = stack.admin()) {
      GenerationRegistry.flipTo(c, generation);
    }
    System.out.println(
        "rolled back: job "
            + job
            + " runs generation "
            + generation
            + " (active) from "
            + restoreFrom);
    return 0;
  }
}
