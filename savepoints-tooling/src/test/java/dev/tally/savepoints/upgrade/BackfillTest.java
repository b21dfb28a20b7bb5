package dev.tally.savepoints.upgrade;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.sinks.PostgresForTests;
import dev.tally.sinks.postgres.GenerationRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.JobStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A backfill that fails or does not finish is reported and never flipped: analysts keep seeing the
 * generation they saw (real PostgreSQL; the cluster is a Testing fake that fails on cue).
 */
class BackfillTest {
  static PostgresForTests postgres;

  @BeforeAll
  static void start() throws Exception {
    postgres = PostgresForTests.start();
    try (Connection c = postgres.admin()) {
      JobSubmission.activateGeneration(c, "live", List.of());
    }
  }

  @AfterAll
  static void stop() throws Exception {
    postgres.close();
  }

  /** A cluster whose backfill job ends in {@code state}. */
  static final class TestingFlinkRest implements FlinkRest {
    @Override
    public List<TaskManager> taskManagers() {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<Task> tasks(String jobId) {
      throw new UnsupportedOperationException();
    }

    JobStatus state;
    Restore restore;
    final List<String> cancelled = new ArrayList<>();
    final List<String> deletedJars = new ArrayList<>();

    TestingFlinkRest(JobStatus state) {
      this.state = state;
    }

    @Override
    public String uploadJar(Path jar) {
      return "jar-1";
    }

    @Override
    public String runJar(String jarId, String entryClass, List<String> args, String savepoint) {
      assertThat(args).contains("--tally.source.stopping-offsets");
      return "job-1";
    }

    @Override
    public JobStatus jobState(String jobId) {
      return state;
    }

    @Override
    public String rootException(String jobId) {
      return "PostgreSQL sink cannot start: connection refused";
    }

    @Override
    public void cancel(String jobId) {
      cancelled.add(jobId);
      state = JobStatus.CANCELED;
    }

    @Override
    public List<JobSummary> jobs() {
      return List.of();
    }

    @Override
    public long lastCompletedCheckpoint(String jobId) {
      return -1;
    }

    @Override
    public void deleteJar(String jarId) {
      deletedJars.add(jarId);
    }

    @Override
    public Restore latestRestore(String jobId) {
      return restore;
    }

    @Override
    public String triggerSavepoint(String jobId, String dir) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String triggerStopWithSavepoint(String jobId, String dir) {
      throw new UnsupportedOperationException();
    }

    @Override
    public SavepointResult savepointStatus(String jobId, String triggerId) {
      throw new UnsupportedOperationException();
    }
  }

  /** Generations the backfill released: a failed or cancelled one must leave nothing open. */
  private static final List<String> released = new ArrayList<>();

  private static Backfill.Result backfill(TestingFlinkRest flink, Duration deadline)
      throws Exception {
    released.clear();
    return new Backfill(
            flink,
            postgres::admin,
            new PrintStream(java.io.OutputStream.nullOutputStream()),
            (c, bootstrap, generation) -> {
              released.add(generation);
              return new ReleaseGeneration.Released(List.of(), List.of());
            })
        .run(
            Path.of("job.jar"),
            List.of(),
            new Backfill.Range(
                "backfill1",
                Instant.parse("2026-11-23T00:00:00Z"),
                Instant.parse("2026-11-24T00:00:00Z"),
                "localhost:1",
                "raw",
                "enriched",
                "dlq"),
            Backfill.Apply.RANGE,
            deadline);
  }

  private static String active() throws Exception {
    try (Connection c = postgres.admin()) {
      return GenerationRegistry.active(c);
    }
  }

  @Test
  void shouldReportAFailedBackfillAndNeverFlipIt() throws Exception {
    TestingFlinkRest failed = new TestingFlinkRest(JobStatus.FAILED);
    Backfill.Result r = backfill(failed, Duration.ofSeconds(5));
    assertThat(failed.deletedJars)
        .as("the uploaded jar is deleted once submitted")
        .containsExactly("jar-1");
    assertThat(r.flipped()).isFalse();
    assertThat(r.problems())
        .singleElement()
        .asString()
        .contains("FAILED")
        .contains("connection refused");
    assertThat(active()).isEqualTo("live");
    assertThat(released).containsExactly("backfill1");
  }

  @Test
  void shouldCancelAndReportABackfillThatDoesNotFinishInTime() throws Exception {
    TestingFlinkRest flink = new TestingFlinkRest(JobStatus.RUNNING);
    Backfill.Result r = backfill(flink, Duration.ofSeconds(1));
    assertThat(r.flipped()).isFalse();
    assertThat(r.problems()).singleElement().asString().contains("did not finish");
    assertThat(flink.cancelled).containsExactly("job-1");
    assertThat(active()).isEqualTo("live");
    assertThat(released).containsExactly("backfill1");
  }
}
