package dev.tally.savepoints;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/** A scripted {@link FlinkRest}: savepoint statuses are answered from a queue. */
class TestingFlinkRest implements FlinkRest {
  @Override
  public List<TaskManager> taskManagers() {
    throw new UnsupportedOperationException();
  }

  @Override
  public List<Task> tasks(String jobId) {
    throw new UnsupportedOperationException();
  }

  final Deque<SavepointResult> statuses = new ArrayDeque<>();
  String lastTrigger;
  final java.util.List<String> deletedJars = new java.util.ArrayList<>();

  @Override
  public String uploadJar(Path jar) {
    throw new UnsupportedOperationException();
  }

  @Override
  public String runJar(
      String jarId, String entryClass, List<String> programArgs, String savepointPath)
      throws java.io.IOException {
    throw new UnsupportedOperationException();
  }

  @Override
  public org.apache.flink.api.common.JobStatus jobState(String jobId) {
    return org.apache.flink.api.common.JobStatus.RUNNING;
  }

  @Override
  public String rootException(String jobId) {
    return null;
  }

  @Override
  public void cancel(String jobId) {}

  @Override
  public List<JobSummary> jobs() {
    return List.of();
  }

  @Override
  public long lastCompletedCheckpoint(String jobId) {
    return -1;
  }

  @Override
  public void deleteJar(String jarId) throws java.io.IOException {
    deletedJars.add(jarId);
  }

  @Override
  public Restore latestRestore(String jobId) {
    return null;
  }

  @Override
  public String triggerSavepoint(String jobId, String targetDirectory) {
    lastTrigger = "savepoint " + jobId + " " + targetDirectory;
    return "t1";
  }

  @Override
  public String triggerStopWithSavepoint(String jobId, String targetDirectory) {
    lastTrigger = "stop " + jobId + " " + targetDirectory;
    return "t2";
  }

  @Override
  public SavepointResult savepointStatus(String jobId, String triggerId) {
    return statuses.isEmpty() ? new SavepointResult.Pending() : statuses.poll();
  }
}
