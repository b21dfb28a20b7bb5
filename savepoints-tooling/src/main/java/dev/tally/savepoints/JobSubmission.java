package dev.tally.savepoints;

import dev.tally.jobs.IngestionJob;
import dev.tally.jobs.JobArgs;
import dev.tally.sinks.postgres.GenerationRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;

/**
 * Registers a generation, makes it active, and submits the ingestion job to the session cluster.
 */
public final class JobSubmission {
  private JobSubmission() {}

  public static Path jobJar(Path home) throws IOException {
    try (var files = Files.list(home.resolve("jobs/target"))) {
      return files
          .filter(p -> p.getFileName().toString().matches("tally-jobs-.*-job\\.jar"))
          .findFirst()
          .orElseThrow(
              () ->
                  new IOException(
                      "no job jar in jobs/target: build with ./mvnw -DskipTests package"));
    }
  }

  /**
   * Registers {@code generation} with the settings its job will run with — read from the same
   * program arguments the job gets, through the job's own {@link IngestionJob#generationSettings} —
   * and makes it the generation analysts see. A generation registered with other settings is
   * refused ({@link GenerationRegistry}).
   */
  public static void activateGeneration(
      Connection admin, String generation, List<String> programArgs) throws Exception {
    Configuration config = JobArgs.parse(programArgs).toConfiguration();
    GenerationRegistry.activate(admin, generation, IngestionJob.generationSettings(config));
  }

  /** Waits until a cancelled job reached a terminal state. */
  public static void awaitTerminal(FlinkRest flink, String jobId, Duration timeout)
      throws Exception {
    awaitTerminal(flink, jobId, timeout, Duration.ofMillis(300));
  }

  /** As above, polling every {@code poll}; returns the terminal state the job reached. */
  public static JobStatus awaitTerminal(
      FlinkRest flink, String jobId, Duration timeout, Duration poll) throws Exception {
    JobStatus state =
        Poll.until(
            timeout,
            poll,
            () -> {
              JobStatus s = flink.jobState(jobId);
              return s.isGloballyTerminalState() ? s : null;
            });
    if (state == null) {
      throw new IOException("job " + jobId + " did not stop within " + timeout.toSeconds() + " s");
    }
    return state;
  }

  /** Uploads and runs the job, then waits until all its tasks run. Returns the job id. */
  public static String submit(FlinkRest flink, Path jar, List<String> args, PrintStream out)
      throws Exception {
    out.println("submitting the ingestion job (" + jar.getFileName() + ") …");
    String jobId = flink.submit(jar, IngestionJob.class.getName(), args, null);
    awaitRunning(flink, jobId, Duration.ofSeconds(60));
    return jobId;
  }

  /** Waits until the job is RUNNING; fails with its root exception if it ended instead. */
  public static void awaitRunning(FlinkRest flink, String jobId, Duration timeout)
      throws Exception {
    JobStatus running =
        Poll.until(
            timeout,
            Duration.ofMillis(500),
            () -> {
              JobStatus s = flink.jobState(jobId);
              if (s.isGloballyTerminalState()) {
                throw new IOException("the job is " + s + ": " + flink.rootException(jobId));
              }
              return s == JobStatus.RUNNING ? s : null;
            });
    if (running == null) {
      throw new IOException(
          "the job did not start within " + timeout.toSeconds() + " s; see the web UI");
    }
  }

  /**
   * Null when the job runs and has completed a checkpoint within {@code grace} (it restored and
   * commits), otherwise why not.
   */
  public static String awaitHealthy(FlinkRest flink, String job, Duration grace) throws Exception {
    JobStatus[] last = {null};
    String verdict =
        Poll.until(
            grace,
            Duration.ofMillis(500),
            () -> {
              last[0] = flink.jobState(job);
              if (last[0].isGloballyTerminalState()) {
                return "job " + job + " is " + last[0] + ": " + flink.rootException(job);
              }
              return last[0] == JobStatus.RUNNING && flink.lastCompletedCheckpoint(job) >= 0
                  ? ""
                  : null;
            });
    if (verdict == null) {
      return "job "
          + job
          + " did not complete a checkpoint within "
          + grace.toSeconds()
          + " s ("
          + last[0]
          + ")";
    }
    return verdict.isEmpty() ? null : verdict;
  }
}
