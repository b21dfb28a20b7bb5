package dev.tally.cli;

import dev.tally.cli.stack.LocalStack;
import dev.tally.cli.stack.StackLayout;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.SavepointOperations;
import dev.tally.savepoints.upgrade.ReleaseGeneration;
import dev.tally.sinks.postgres.CommittedRows;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Operating jobs on the local stack's Flink cluster: list, savepoint, stop, cancel, deploy. */
final class JobCommands {
  private JobCommands() {}

  /** Flink REST of the local stack, or --flink-url. */
  static final class Cluster {
    @Mixin StackOptions stack;

    @Option(
        names = "--flink-url",
        paramLabel = "URL",
        description = "Flink REST address (default: the local stack's)")
    String flinkUrl;

    @Option(
        names = "--timeout",
        paramLabel = "DURATION",
        converter = Durations.class,
        defaultValue = "5m",
        description = "longest wait for a savepoint (default ${DEFAULT-VALUE})")
    Duration timeout;

    FlinkRest flink() throws Exception {
      return new HttpFlinkRest(
          flinkUrl != null ? flinkUrl : stack.existingLayout().flinkRestUrl(),
          Duration.ofSeconds(20));
    }

    String savepointDir(String given) throws Exception {
      return given != null
          ? Path.of(given).toAbsolutePath().toUri().toString()
          : stack.existingLayout().dir().resolve("flink/savepoints").toUri().toString();
    }
  }

  @Command(
      name = "jobs",
      mixinStandardHelpOptions = true,
      description =
          "Jobs on the cluster with generation, state, last checkpoint and committed watermark.")
  static final class Jobs implements Callable<Integer> {
    @Mixin Cluster cluster;

    @Override
    public Integer call() throws Exception {
      FlinkRest flink = cluster.flink();
      List<FlinkRest.JobSummary> jobs = flink.jobs();
      System.out.printf(
          "%-34s %-12s %-10s %-12s %s%n",
          "job", "generation", "state", "checkpoint", "complete_through");
      try (Connection db = cluster.stack.existingStack().admin()) {
        for (FlinkRest.JobSummary j : jobs) {
          String generation =
              j.name().startsWith("tally-ingestion-")
                  ? j.name().substring("tally-ingestion-".length())
                  : "—";
          long checkpoint =
              j.state() == org.apache.flink.api.common.JobStatus.RUNNING
                  ? flink.lastCompletedCheckpoint(j.id())
                  : -1;
          System.out.printf(
              "%-34s %-12s %-10s %-12s %s%n",
              j.id(),
              generation,
              j.state(),
              checkpoint < 0 ? "—" : Long.toString(checkpoint),
              completeThrough(db, generation));
        }
      }
      return 0;
    }

    private static String completeThrough(Connection db, String generation) throws Exception {
      Long ms = CommittedRows.completeThroughMs(db, generation);
      return ms == null ? "—" : Instant.ofEpochMilli(ms).toString();
    }
  }

  /** Savepoint-taking commands: a job id, an optional target folder, a path printed. */
  abstract static class SavepointCommand implements Callable<Integer> {
    @Mixin Cluster cluster;

    @Parameters(paramLabel = "JOB", description = "job id (see ./tally jobs)")
    String job;

    @Option(
        names = "--target",
        paramLabel = "DIR",
        description = "savepoint folder (default: the stack's savepoints)")
    String target;

    abstract String take(SavepointOperations operations, String job, String target)
        throws Exception;

    @Override
    public Integer call() throws Exception {
      SavepointOperations operations =
          new SavepointOperations(cluster.flink(), System.err, cluster.timeout);
      System.out.println(take(operations, job, cluster.savepointDir(target)));
      return 0;
    }
  }

  @Command(
      name = "savepoint",
      mixinStandardHelpOptions = true,
      description = "Take a savepoint of a running job (it keeps running); print its path.")
  static final class Savepoint extends SavepointCommand {
    @Override
    String take(SavepointOperations operations, String job, String target) throws Exception {
      return operations.savepoint(job, target);
    }
  }

  @Command(
      name = "stop",
      mixinStandardHelpOptions = true,
      description = "Stop a job with a savepoint (its output is committed); print the path.")
  static final class Stop extends SavepointCommand {
    @Override
    String take(SavepointOperations operations, String job, String target) throws Exception {
      return operations.stop(job, target);
    }
  }

  @Command(
      name = "cancel",
      mixinStandardHelpOptions = true,
      description =
          "Cancel a job without a savepoint and release its generation: its open Kafka transactions are aborted (they would hide everything after them from read_committed readers) and its prepared PostgreSQL transactions rolled back. The generation cannot be restored afterwards; use 'stop' to keep it restorable.")
  static final class Cancel implements Callable<Integer> {
    @Mixin Cluster cluster;

    @Parameters(paramLabel = "JOB")
    String job;

    @Override
    public Integer call() throws Exception {
      FlinkRest flink = cluster.flink();
      String generation = generationOf(flink, job);
      flink.cancel(job);
      JobSubmission.awaitTerminal(flink, job, Duration.ofSeconds(60));
      System.out.println("cancelled " + job);
      if (generation != null) {
        release(cluster.stack.existingStack(), generation);
      }
      return 0;
    }
  }

  /** The generation of a Tally ingestion job, or null for another job. */
  static String generationOf(FlinkRest flink, String job) throws Exception {
    for (FlinkRest.JobSummary j : flink.jobs()) {
      if (j.id().equals(job) && j.name().startsWith("tally-ingestion-")) {
        return j.name().substring("tally-ingestion-".length());
      }
    }
    return null;
  }

  @Command(
      name = "release",
      mixinStandardHelpOptions = true,
      description =
          "Release an abandoned generation (cancelled, crashed and never to be restored, an aborted green): abort its open Kafka transactions and roll back its prepared PostgreSQL transactions. Refused while a job of the generation runs. ./tally audit names this command when an open transaction blocks readers.")
  static final class Release implements Callable<Integer> {
    @Mixin Cluster cluster;

    @Option(names = "--generation", required = true, paramLabel = "G")
    String generation;

    @Override
    public Integer call() throws Exception {
      UserFacingErrors.requireGeneration("--generation", generation);
      FlinkRest flink = cluster.flink();
      String running = ReleaseGeneration.runningJob(flink, generation);
      if (running != null) {
        System.err.println(
            "tally: generation "
                + generation
                + " has a running job ("
                + running
                + "): releasing it would fence that job. Stop it (./tally stop "
                + running
                + ") or cancel it (./tally cancel "
                + running
                + ", which releases it) first.");
        return 2;
      }
      release(cluster.stack.existingStack(), generation);
      return 0;
    }
  }

  /** Releases a generation of the local stack and says what was released. */
  static void release(LocalStack stack, String generation) throws Exception {
    try (Connection admin = stack.admin()) {
      System.out.println(
          "released generation "
              + generation
              + ": "
              + ReleaseGeneration.release(admin, stack.layout().kafkaBootstrap(), generation));
    }
  }

  @Command(
      name = "deploy",
      mixinStandardHelpOptions = true,
      description =
          "Start the ingestion job as a generation on the local stack, optionally from a savepoint.")
  static final class Deploy implements Callable<Integer> {
    @Mixin Cluster cluster;

    @Option(
        names = "--generation",
        required = true,
        paramLabel = "G",
        description = "[a-z0-9]{1,20}")
    String generation;

    @Option(
        names = "--jar",
        paramLabel = "JAR",
        description = "job jar (default: jobs/target/tally-jobs-*-job.jar)")
    Path jar;

    @Option(
        names = "--from-savepoint",
        paramLabel = "PATH",
        description = "restore from this savepoint or retained checkpoint")
    String savepoint;

    @Option(
        names = "--checkpoint-interval",
        paramLabel = "DURATION",
        converter = Durations.class,
        defaultValue = "5s")
    Duration checkpointInterval;

    @Override
    public Integer call() throws Exception {
      UserFacingErrors.requireGeneration("--generation", generation);
      Path jobJar = jar != null ? jar : JobSubmission.jobJar(StackOptions.home());
      UserFacingErrors.requireJar(jobJar);
      if (savepoint != null
          && !Files.exists(Path.of(savepoint.replaceFirst("^file:", "")).resolve("_metadata"))) {
        throw new UserFacingErrors.UsageError("not a savepoint (no _metadata): " + savepoint);
      }
      LocalStack stack = cluster.stack.existingStack();
      StackLayout layout = stack.layout();
      if (savepoint == null) {
        try (Connection db = stack.admin()) {
          if (CommittedRows.hasCommitted(db, generation)) {
            throw new UserFacingErrors.UsageError(
                "generation "
                    + generation
                    + " already exists and has committed data: continue it with"
                    + " --from-savepoint, or choose a new generation");
          }
        }
      }
      FlinkRest flink = cluster.flink();
      List<String> args = layout.jobArgs(generation, checkpointInterval, "earliest");
      String jobId =
          flink.submit(
              jobJar,
              dev.tally.jobs.IngestionJob.class.getName(),
              args,
              savepoint == null
                  ? null
                  : Path.of(savepoint.replaceFirst("^file:", "")).toUri().toString());
      System.out.println(
          "started "
              + jobId
              + " as generation "
              + generation
              + (savepoint == null ? "" : " from " + savepoint));
      System.out.println(
          "make it the one analysts see with an active-generation flip (upgrade tooling: see docs/operations.md)");
      return 0;
    }
  }
}
