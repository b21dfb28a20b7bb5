package dev.tally.savepoints;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Savepoints as operators use them: trigger, wait with progress and a deadline, and return the path
 * or fail with the reason the cluster gave. No call waits without a bound.
 */
public final class SavepointOperations {
  private final FlinkRest flink;
  private final PrintStream progress;
  private final Duration timeout;
  private final Duration poll;
  private final LongSupplier clock;

  public SavepointOperations(FlinkRest flink, PrintStream progress, Duration timeout) {
    this(flink, progress, timeout, Duration.ofMillis(500), System::nanoTime);
  }

  SavepointOperations(
      FlinkRest flink,
      PrintStream progress,
      Duration timeout,
      Duration poll,
      LongSupplier nanoClock) {
    this.flink = flink;
    this.progress = progress;
    this.timeout = timeout;
    this.poll = poll;
    this.clock = nanoClock;
  }

  /** A savepoint of a running job, which keeps running. Returns the savepoint path. */
  public String savepoint(String jobId, String targetDirectory)
      throws IOException, InterruptedException {
    return await(jobId, flink.triggerSavepoint(jobId, targetDirectory), "savepoint");
  }

  /** Stop-with-savepoint: the job's output is committed and it stops. Returns the path. */
  public String stop(String jobId, String targetDirectory)
      throws IOException, InterruptedException {
    return await(
        jobId, flink.triggerStopWithSavepoint(jobId, targetDirectory), "stop-with-savepoint");
  }

  private String await(String jobId, String triggerId, String what)
      throws IOException, InterruptedException {
    long started = clock.getAsLong();
    long lastReport = started;
    while (true) {
      FlinkRest.SavepointResult r = flink.savepointStatus(jobId, triggerId);
      if (r instanceof FlinkRest.SavepointResult.Completed c) {
        return c.path();
      }
      if (r instanceof FlinkRest.SavepointResult.Failed f) {
        throw new IOException(what + " of job " + jobId + " failed: " + f.reason());
      }
      long now = clock.getAsLong();
      if (now - started > timeout.toNanos()) {
        throw new IOException(
            what + " of job " + jobId + " did not complete within " + timeout.toSeconds() + " s");
      }
      if (now - lastReport > 2_000_000_000L) {
        lastReport = now;
        progress.printf(
            "  %s of %s in progress (%d s) …%n", what, jobId, (now - started) / 1_000_000_000L);
      }
      Thread.sleep(poll.toMillis());
    }
  }
}
