package dev.tally.savepoints.upgrade;

import dev.tally.jobs.IngestionJob;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.SavepointOperations;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * An in-place upgrade of a running generation: savepoint while it runs → {@link UpgradeCheck}
 * against the new jar → stop-with-savepoint (all output committed) → the new jar started from that
 * savepoint as the same generation → healthy when it is RUNNING and has completed a checkpoint
 * within the grace period. If the check fails nothing is touched; if the new job is not healthy it
 * is cancelled and, given the previous jar, the previous version is started again from the same
 * savepoint (rollback). The PostgreSQL sink and the Kafka transactional ids continue the generation
 * exactly where the savepoint left it, so there is no gap and no double count.
 */
public final class InPlaceUpgrade {
  private final FlinkRest flink;
  private final PrintStream out;
  private final SavepointOperations savepoints;

  public InPlaceUpgrade(FlinkRest flink, PrintStream out) {
    this.flink = flink;
    this.out = out;
    this.savepoints = new SavepointOperations(flink, out, Duration.ofMinutes(5));
  }

  /** What happened; {@code jobId} is the job that runs the generation afterwards. */
  public record Result(boolean upgraded, String jobId, String savepoint, List<String> problems) {}

  public Result run(
      String jobId,
      Path newJar,
      Path previousJar,
      List<String> programArgs,
      String savepointDir,
      Duration grace)
      throws Exception {
    out.println("1/4 savepoint of " + jobId + " for the pre-flight check (the job keeps running)");
    String probe = savepoints.savepoint(jobId, savepointDir);
    out.println("2/4 check " + newJar.getFileName() + " against " + probe);
    List<String> problems = UpgradeCheck.problems(probe, newJar, programArgs);
    if (!problems.isEmpty()) {
      return new Result(false, jobId, probe, problems);
    }
    out.println("3/4 stop-with-savepoint of " + jobId);
    String stopped = savepoints.stop(jobId, savepointDir);
    out.println("4/4 start " + newJar.getFileName() + " from " + stopped);
    String newJob = start(newJar, programArgs, stopped);
    String unhealthy = JobSubmission.awaitHealthy(flink, newJob, grace);
    if (unhealthy == null) {
      return new Result(true, newJob, stopped, List.of());
    }
    out.println("the new job is not healthy (" + unhealthy + "): cancelling it");
    flink.cancel(newJob);
    if (previousJar == null) {
      return new Result(
          false,
          null,
          stopped,
          List.of(
              unhealthy,
              "nothing runs the generation now: restore the previous jar with"
                  + " ./tally deploy --from-savepoint "
                  + stopped));
    }
    out.println("rollback: start " + previousJar.getFileName() + " from " + stopped);
    String restored = start(previousJar, programArgs, stopped);
    String stillUnhealthy = JobSubmission.awaitHealthy(flink, restored, grace);
    return new Result(
        false,
        restored,
        stopped,
        stillUnhealthy == null
            ? List.of(unhealthy, "rolled back: the previous jar runs the generation again")
            : List.of(unhealthy, "the rollback is not healthy either: " + stillUnhealthy));
  }

  private String start(Path jar, List<String> args, String savepoint) throws Exception {
    return flink.submit(jar, IngestionJob.class.getName(), args, savepoint);
  }
}
