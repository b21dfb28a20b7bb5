package dev.tally.cli;

import dev.tally.cli.stack.StackLayout;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.SavepointInspection;
import dev.tally.savepoints.upgrade.UpgradeCheck;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "check",
    mixinStandardHelpOptions = true,
    description = {
      "Pre-flight before an upgrade:",
      "the new jar builds the job against the local stack (its start-up checks included), every operator state in the savepoint maps to an operator of the new job, and the person state restores with the new jar's serializers (Avro evolution allowed, incompatible changes refused). Exit 1 with the list of problems."
    })
public final class CheckCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Parameters(index = "0", paramLabel = "SAVEPOINT", description = "savepoint directory or URI")
  String savepoint;

  @Option(
      names = "--jar",
      paramLabel = "JAR",
      description = "the new job jar (default: jobs/target/tally-jobs-*-job.jar)")
  Path jar;

  @Option(
      names = "--generation",
      defaultValue = "check",
      paramLabel = "G",
      description = "generation the new job would run as (default ${DEFAULT-VALUE})")
  String generation;

  @Override
  public Integer call() throws Exception {
    Path jobJar = jar != null ? jar : JobSubmission.jobJar(StackOptions.home());
    StackLayout layout = stackOptions.existingStack().layout();
    List<String> args = layout.jobArgs(generation, Duration.ofSeconds(5), "earliest");
    List<String> problems;
    try {
      problems = UpgradeCheck.problems(savepoint, jobJar, args);
    } catch (SavepointInspection.NotASavepoint e) {
      throw new UserFacingErrors.UsageError(e.getMessage());
    } catch (IOException e) {
      throw new UserFacingErrors.UsageError(e.getMessage());
    }
    if (problems.isEmpty()) {
      System.out.println("check passed: " + jobJar.getFileName() + " can start from " + savepoint);
      return 0;
    }
    System.out.println(
        "check FAILED: " + jobJar.getFileName() + " must not start from " + savepoint);
    problems.forEach(p -> System.out.println("  - " + p));
    return 1;
  }
}
