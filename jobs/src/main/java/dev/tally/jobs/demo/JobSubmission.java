package dev.tally.jobs.demo;

import dev.tally.jobs.IngestionJob;
import dev.tally.jobs.JobArgs;
import dev.tally.jobs.JobOptions;
import dev.tally.jobs.stack.StackLayout;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.Poll;
import dev.tally.sinks.postgres.GenerationRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
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
   * Registers the generation with its settings and flips the analyst views to it, in one
   * transaction.
   */
  /** Makes {@code generation} the one analysts see (it must be registered), in one statement. */
  public static void flipTo(Connection admin, String generation) throws Exception {
    try (PreparedStatement a =
        admin.prepareStatement(
            "INSERT INTO tally.active_generation (singleton, generation)"
                + " SELECT true, generation FROM tally.generations WHERE generation = ?"
                + " ON CONFLICT (singleton) DO UPDATE SET generation = EXCLUDED.generation, switched_at = now()")) {
      a.setString(1, generation);
      if (a.executeUpdate() != 1) {
        throw new IllegalStateException("generation " + generation + " is not registered");
      }
    }
  }

  /** The generation analysts see now, or null. */
  public static String activeGeneration(Connection admin) throws Exception {
    try (PreparedStatement ps =
            admin.prepareStatement("SELECT generation FROM tally.active_generation");
        var rs = ps.executeQuery()) {
      return rs.next() ? rs.getString(1) : null;
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
    admin.setAutoCommit(false);
    try (PreparedStatement a =
        admin.prepareStatement(
            "INSERT INTO tally.active_generation (singleton, generation) VALUES (true, ?)"
                + " ON CONFLICT (singleton) DO UPDATE SET generation = EXCLUDED.generation, switched_at = now()")) {
      GenerationRegistry.register(admin, generation, IngestionJob.generationSettings(config));
      a.setString(1, generation);
      a.executeUpdate();
      admin.commit();
    } catch (Exception e) {
      admin.rollback();
      throw e;
    } finally {
      admin.setAutoCommit(true);
    }
  }

  public static List<String> programArgs(
      StackLayout layout, String generation, Duration checkpointInterval, String startingOffsets) {
    return JobArgs.empty()
        .set(JobOptions.STARTING_OFFSETS, startingOffsets)
        .set(JobOptions.GENERATION, generation)
        .set(JobOptions.KAFKA_BOOTSTRAP, layout.kafkaBootstrap())
        .set(JobOptions.POSTGRES_URL, layout.jdbcUrl())
        .set(JobOptions.POSTGRES_USER, StackLayout.WRITER_USER)
        // a path, not the secret: the TaskManagers read the password from the file
        .set(JobOptions.POSTGRES_PASSWORD_FILE, layout.writerPasswordFile().toString())
        .set(JobOptions.CHECKPOINT_INTERVAL, checkpointInterval)
        .set(JobOptions.PARALLELISM, 2)
        .toList();
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

  /** Whether the generation is registered (it ran, or runs). */
  public static boolean isRegistered(Connection admin, String generation) throws Exception {
    try (PreparedStatement ps =
        admin.prepareStatement(
            "SELECT 1 FROM tally.generations WHERE generation = ?"
                + " UNION ALL SELECT 1 FROM tally.generation_inheritance WHERE generation = ?")) {
      ps.setString(1, generation);
      ps.setString(2, generation);
      try (var rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}
