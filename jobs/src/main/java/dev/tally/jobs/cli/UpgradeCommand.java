package dev.tally.jobs.cli;

import dev.tally.jobs.demo.JobSubmission;
import dev.tally.jobs.upgrade.InPlaceUpgrade;
import dev.tally.savepoints.FlinkRest;
import dev.tally.sinks.postgres.TransactionIds;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "upgrade",
    mixinStandardHelpOptions = true,
    description =
        "Upgrade a running generation to a new job jar. in-place: savepoint while it runs, check"
            + " the new jar against it (nothing changes if the check fails), stop-with-savepoint,"
            + " start the new jar from that savepoint as the same generation, and wait until it"
            + " runs and completes a checkpoint; if it does not, cancel it and start"
            + " --previous-jar again from the same savepoint. blue-green is not built yet.")
public final class UpgradeCommand implements Callable<Integer> {
  @Mixin JobCommands.Cluster cluster;

  @Option(names = "--job", required = true, paramLabel = "JOB", description = "running job id")
  String job;

  @Option(names = "--jar", required = true, paramLabel = "JAR", description = "the new job jar")
  Path jar;

  @Option(
      names = "--previous-jar",
      paramLabel = "JAR",
      description = "the jar the job runs now, for an automatic rollback")
  Path previousJar;

  @Option(
      names = "--strategy",
      defaultValue = "in-place",
      paramLabel = "S",
      description = "in-place (default) or blue-green")
  String strategy;

  @Option(
      names = "--grace",
      converter = Durations.class,
      defaultValue = "2m",
      paramLabel = "DURATION",
      description =
          "how long the new job may take to run and checkpoint (default ${DEFAULT-VALUE})")
  Duration grace;

  @Override
  public Integer call() throws Exception {
    if (!"in-place".equals(strategy)) {
      throw new UserFacingErrors.UsageError(
          "--strategy " + strategy + ": only in-place is built (blue-green is open work)");
    }
    for (Path p : previousJar == null ? List.of(jar) : List.of(jar, previousJar)) {
      if (!Files.isRegularFile(p)) {
        throw new UserFacingErrors.UsageError("no such jar: " + p);
      }
    }
    FlinkRest flink = cluster.flink();
    FlinkRest.JobSummary running =
        flink.jobs().stream()
            .filter(j -> j.id().equals(job))
            .findFirst()
            .orElseThrow(
                () -> new UserFacingErrors.UsageError("no job " + job + " on the cluster"));
    if (!"RUNNING".equals(running.state())) {
      throw new UserFacingErrors.UsageError(
          "job " + job + " is " + running.state() + ", not RUNNING");
    }
    String prefix = "tally-ingestion-";
    if (!running.name().startsWith(prefix)) {
      throw new UserFacingErrors.UsageError("job " + job + " is not a Tally ingestion job");
    }
    String generation = running.name().substring(prefix.length());
    TransactionIds.validateName("generation", generation);
    List<String> args =
        JobSubmission.programArgs(
            cluster.stack.existingLayout(), generation, Duration.ofSeconds(5), "earliest");
    InPlaceUpgrade.Result r =
        new InPlaceUpgrade(flink, System.out)
            .run(job, jar, previousJar, args, cluster.savepointDir(null), grace);
    if (r.upgraded()) {
      System.out.println(
          "upgraded: job "
              + r.jobId()
              + " runs generation "
              + generation
              + " from "
              + r.savepoint());
      return 0;
    }
    System.out.println("NOT upgraded:");
    r.problems().forEach(p -> System.out.println("  - " + p));
    if (r.jobId() != null) {
      System.out.println("job " + r.jobId() + " runs generation " + generation);
    }
    return 1;
  }
}
