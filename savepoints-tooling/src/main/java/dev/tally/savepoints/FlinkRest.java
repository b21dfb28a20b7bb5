package dev.tally.savepoints;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.JobStatus;

/**
 * The Flink REST operations Tally's tooling needs. Every call has a timeout; failures are {@link
 * IOException}s whose message says what the cluster answered.
 */
public interface FlinkRest {

  /** Uploads a job jar and returns its id on the cluster. */
  String uploadJar(Path jar) throws IOException;

  /**
   * Runs an uploaded jar.
   *
   * @param savepointPath restore from this savepoint, or null
   * @return the job id
   */
  String runJar(String jarId, String entryClass, List<String> programArgs, String savepointPath)
      throws IOException;

  /** Deletes an uploaded jar (a submitted job keeps its own copy in the cluster's blob store). */
  void deleteJar(String jarId) throws IOException;

  /**
   * The one way Tally submits a job: uploads the jar, runs it and deletes the upload, so a session
   * cluster does not keep every jar ever submitted. A failed deletion only leaves disk behind and
   * does not fail the submission.
   *
   * @return the job id
   */
  default String submit(Path jar, String entryClass, List<String> args, String savepointPath)
      throws IOException {
    String jarId = uploadJar(jar);
    String job;
    try {
      job = runJar(jarId, entryClass, args, savepointPath);
    } catch (IOException | RuntimeException e) {
      try {
        deleteJar(jarId);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    try {
      deleteJar(jarId);
    } catch (IOException ignored) {
      // the upload stays on the JobManager's disk; the job runs
    }
    return job;
  }

  /** The job's state, as Flink's own enum. */
  JobStatus jobState(String jobId) throws IOException;

  /** The job's latest root exception, or null. */
  String rootException(String jobId) throws IOException;

  /** Cancels a job (no savepoint). */
  void cancel(String jobId) throws IOException;

  /** The result of a savepoint operation. */
  sealed interface SavepointResult {
    record Pending() implements SavepointResult {}

    record Completed(String path) implements SavepointResult {}

    record Failed(String reason) implements SavepointResult {}
  }

  /** A job as the cluster lists it. */
  record JobSummary(String id, String name, JobStatus state, long startTime) {}

  /** Every job the cluster knows (running and finished). */
  List<JobSummary> jobs() throws IOException;

  /** The id of the last completed checkpoint of a job, or -1. */
  long lastCompletedCheckpoint(String jobId) throws IOException;

  /** The checkpoint or savepoint a job last restored from, and when. */
  record Restore(long checkpointId, long restoredAtMillis) {}

  /** The job's latest restore, or null if it never restored (since it was submitted). */
  Restore latestRestore(String jobId) throws IOException;

  /** Starts a savepoint of a running job (it keeps running) and returns the trigger id. */
  String triggerSavepoint(String jobId, String targetDirectory) throws IOException;

  /** Starts stop-with-savepoint and returns the trigger id to poll. */
  String triggerStopWithSavepoint(String jobId, String targetDirectory) throws IOException;

  SavepointResult savepointStatus(String jobId, String triggerId) throws IOException;

  /** A TaskManager the JobManager lists: its id, RPC address and slots. */
  record TaskManager(String id, String path, int slots, int freeSlots) {}

  /** The TaskManagers registered with the JobManager. */
  List<TaskManager> taskManagers() throws IOException;

  /** One subtask: records it read and milliseconds it was busy (not idle, not back-pressured). */
  record SubtaskLoad(long records, long busyMillis) {}

  /** One task (job vertex) of a job: its name and its subtasks in index order. */
  record Task(String name, List<SubtaskLoad> subtasks) {}

  /** The job's tasks with their subtasks' records read and busy time. */
  List<Task> tasks(String jobId) throws IOException;
}
