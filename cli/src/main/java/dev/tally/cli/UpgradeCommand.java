package dev.tally.cli;

import dev.tally.cli.demo.Topics;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.audit.Audit;
import dev.tally.savepoints.upgrade.BlueGreenUpgrade;
import dev.tally.savepoints.upgrade.InPlaceUpgrade;
import dev.tally.sinks.postgres.GenerationRegistry;
import dev.tally.sinks.postgres.TransactionIds;
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
    description = {
      "Upgrade a running generation to a new job jar.",
      "in-place: savepoint while it runs, check the new jar against it (nothing changes if the check fails), stop-with-savepoint, start the new jar from that savepoint as the same generation, and wait until it runs and completes a checkpoint; if it does not, cancel it and start --previous-jar again from the same savepoint. blue-green: start --green-generation from blue's savepoint (its state without the sinks' state, and blue's rows as of that savepoint; or, with --green-start recount, recounting the raw topic from the same start as blue), flip analysts to it when its committed watermark reached blue's and its audit is clean, then stop blue with a savepoint; abort (blue stays active) if green fails, restarts or stalls."
    })
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
      names = "--green-generation",
      paramLabel = "G",
      description = "blue-green: the new generation ([a-z0-9]{1,20})")
  String greenGeneration;

  @Option(
      names = "--green-start",
      defaultValue = "savepoint",
      paramLabel = "S",
      description =
          "blue-green: savepoint (default: green restores blue's savepoint without its sinks' state"
              + " and inherits blue's rows as of it) or recount (green reads the raw topic from"
              + " --starting-offsets; for state the new jar cannot restore)")
  String greenStart;

  @Option(
      names = "--starting-offsets",
      defaultValue = "earliest",
      paramLabel = "S",
      description =
          "blue-green: where green starts reading, as blue did (default ${DEFAULT-VALUE})")
  String startingOffsets;

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
    if (!"in-place".equals(strategy) && !"blue-green".equals(strategy)) {
      throw new UserFacingErrors.UsageError("--strategy must be in-place or blue-green");
    }
    if ("blue-green".equals(strategy)) {
      if (!"savepoint".equals(greenStart) && !"recount".equals(greenStart)) {
        throw new UserFacingErrors.UsageError("--green-start must be savepoint or recount");
      }
      if (greenGeneration == null) {
        throw new UserFacingErrors.UsageError("--strategy blue-green needs --green-generation");
      }
      UserFacingErrors.requireGeneration("--green-generation", greenGeneration);
    }
    for (Path p : previousJar == null ? List.of(jar) : List.of(jar, previousJar)) {
      UserFacingErrors.requireJar(p);
    }
    FlinkRest flink = cluster.flink();
    FlinkRest.JobSummary running =
        flink.jobs().stream()
            .filter(j -> j.id().equals(job))
            .findFirst()
            .orElseThrow(
                () -> new UserFacingErrors.UsageError("no job " + job + " on the cluster"));
    if (running.state() != org.apache.flink.api.common.JobStatus.RUNNING) {
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
        cluster.stack.existingLayout().jobArgs(generation, Duration.ofSeconds(5), "earliest");
    if ("blue-green".equals(strategy)) {
      return blueGreen(flink, generation);
    }
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

  private int blueGreen(FlinkRest flink, String blue) throws Exception {
    var stack = cluster.stack.existingStack();
    try (var c = stack.admin()) {
      if (GenerationRegistry.isRegistered(c, greenGeneration)) {
        throw new UserFacingErrors.UsageError("generation " + greenGeneration + " already exists");
      }
    }
    var layout = stack.layout();
    BlueGreenUpgrade.Result r =
        new BlueGreenUpgrade(flink, stack::admin, stack.layout().kafkaBootstrap(), System.out)
            .run(
                job,
                blue,
                greenGeneration,
                jar,
                "recount".equals(greenStart)
                    ? BlueGreenUpgrade.GreenStart.RECOUNT
                    : BlueGreenUpgrade.GreenStart.SAVEPOINT,
                g -> layout.jobArgs(g, Duration.ofSeconds(5), startingOffsets),
                g ->
                    new Audit.Target(
                        g,
                        layout.kafkaBootstrap(),
                        Topics.RAW,
                        Topics.ENRICHED,
                        Topics.DEAD_LETTER,
                        Duration.ofSeconds(30)),
                cluster.savepointDir(null),
                grace,
                Duration.ofHours(6));
    if (r.flipped()) {
      System.out.println(
          "flipped to "
              + greenGeneration
              + " (job "
              + r.jobId()
              + "); blue "
              + blue
              + " stopped, savepoint for rollback: "
              + r.blueSavepoint());
      return 0;
    }
    System.out.println("NOT upgraded (blue " + blue + " stays active):");
    r.problems().forEach(p -> System.out.println("  - " + p));
    return 1;
  }
}
