package dev.tally.savepoints;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/** {@link FlinkRest} over the JobManager's REST API (Flink 2.2), with a timeout on every call. */
public final class HttpFlinkRest implements FlinkRest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  private final Duration timeout;
  private final HttpClient http;

  public HttpFlinkRest(String baseUrl, Duration timeout) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  @Override
  public String uploadJar(Path jar) throws IOException {
    String boundary = "----tally" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName()
                + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
    body.writeBytes(Files.readAllBytes(jar));
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    JsonNode r =
        send(
            HttpRequest.newBuilder(uri("/jars/upload"))
                .timeout(timeout.multipliedBy(6))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())),
            "upload " + jar.getFileName());
    String file = r.path("filename").asText();
    return file.substring(file.lastIndexOf('/') + 1);
  }

  @Override
  public void deleteJar(String jarId) throws IOException {
    send(HttpRequest.newBuilder(uri("/jars/" + jarId)).DELETE(), "delete jar " + jarId);
  }

  @Override
  public String runJar(
      String jarId, String entryClass, List<String> programArgs, String savepointPath)
      throws IOException {
    Map<String, Object> request = new LinkedHashMap<>();
    request.put("entryClass", entryClass);
    request.put("programArgsList", programArgs);
    if (savepointPath != null) {
      request.put("savepointPath", savepointPath);
      request.put("allowNonRestoredState", false);
    }
    JsonNode r =
        send(
            HttpRequest.newBuilder(uri("/jars/" + jarId + "/run"))
                .timeout(timeout.multipliedBy(6)) // the job's main() runs during this call
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(request))),
            "run " + entryClass);
    return r.path("jobid").asText();
  }

  @Override
  public JobStatus jobState(String jobId) throws IOException {
    return status(
        send(HttpRequest.newBuilder(uri("/jobs/" + jobId)).GET(), "job " + jobId)
            .path("state")
            .asText());
  }

  private static JobStatus status(String state) throws IOException {
    try {
      return JobStatus.valueOf(state);
    } catch (IllegalArgumentException e) {
      throw new IOException("the cluster answered an unknown job state '" + state + "'");
    }
  }

  @Override
  public String rootException(String jobId) throws IOException {
    JsonNode r =
        send(
            HttpRequest.newBuilder(uri("/jobs/" + jobId + "/exceptions")).GET(),
            "exceptions of " + jobId);
    JsonNode history = r.path("exceptionHistory").path("entries");
    if (history.isArray() && !history.isEmpty()) {
      return history.get(0).path("exceptionName").asText()
          + ": "
          + firstLine(history.get(0).path("stacktrace").asText());
    }
    return null;
  }

  @Override
  public void cancel(String jobId) throws IOException {
    send(
        HttpRequest.newBuilder(uri("/jobs/" + jobId + "?mode=cancel"))
            .method("PATCH", HttpRequest.BodyPublishers.noBody()),
        "cancel " + jobId);
  }

  @Override
  public List<JobSummary> jobs() throws IOException {
    JsonNode r = send(HttpRequest.newBuilder(uri("/jobs/overview")).GET(), "list jobs");
    List<JobSummary> jobs = new java.util.ArrayList<>();
    for (JsonNode j : r.path("jobs")) {
      jobs.add(
          new JobSummary(
              j.path("jid").asText(),
              j.path("name").asText(),
              status(j.path("state").asText()),
              j.path("start-time").asLong()));
    }
    return jobs;
  }

  @Override
  public long lastCompletedCheckpoint(String jobId) throws IOException {
    JsonNode completed = latestCheckpoints(jobId).path("completed");
    return completed.isMissingNode() || completed.isNull() ? -1 : completed.path("id").asLong(-1);
  }

  /**
   * The "latest" of {@code GET /jobs/:jobid/checkpoints}: completed, restored, failed, savepoint.
   */
  private JsonNode latestCheckpoints(String jobId) throws IOException {
    return send(
            HttpRequest.newBuilder(uri("/jobs/" + jobId + "/checkpoints")).GET(),
            "checkpoints of " + jobId)
        .path("latest");
  }

  @Override
  public Restore latestRestore(String jobId) throws IOException {
    JsonNode restored = latestCheckpoints(jobId).path("restored");
    return restored.isMissingNode() || restored.isNull()
        ? null
        : new Restore(
            restored.path("id").asLong(-1), restored.path("restore_timestamp").asLong(-1));
  }

  @Override
  public String triggerSavepoint(String jobId, String targetDirectory) throws IOException {
    return postForRequestId(
        "/jobs/" + jobId + "/savepoints",
        Map.of("target-directory", targetDirectory, "cancel-job", false),
        "savepoint " + jobId);
  }

  @Override
  public String triggerStopWithSavepoint(String jobId, String targetDirectory) throws IOException {
    return postForRequestId(
        "/jobs/" + jobId + "/stop",
        Map.of("targetDirectory", targetDirectory, "drain", false),
        "stop " + jobId);
  }

  /** POSTs a JSON body to an asynchronous operation and returns its trigger (request) id. */
  private String postForRequestId(String path, Map<String, Object> body, String what)
      throws IOException {
    JsonNode r =
        send(
            HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))),
            what);
    return r.path("request-id").asText();
  }

  @Override
  public SavepointResult savepointStatus(String jobId, String triggerId) throws IOException {
    JsonNode r =
        send(
            HttpRequest.newBuilder(uri("/jobs/" + jobId + "/savepoints/" + triggerId)).GET(),
            "savepoint " + triggerId);
    if (!"COMPLETED".equals(r.path("status").path("id").asText())) {
      return new SavepointResult.Pending();
    }
    JsonNode operation = r.path("operation");
    if (operation.has("failure-cause")) {
      return new SavepointResult.Failed(
          firstLine(operation.path("failure-cause").path("stack-trace").asText()));
    }
    return new SavepointResult.Completed(operation.path("location").asText());
  }

  @Override
  public List<TaskManager> taskManagers() throws IOException {
    List<TaskManager> list = new java.util.ArrayList<>();
    for (JsonNode tm :
        send(HttpRequest.newBuilder(uri("/taskmanagers")).GET(), "list TaskManagers")
            .path("taskmanagers")) {
      list.add(
          new TaskManager(
              tm.path("id").asText(),
              tm.path("path").asText(),
              tm.path("slotsNumber").asInt(),
              tm.path("freeSlots").asInt()));
    }
    return list;
  }

  @Override
  public List<Task> tasks(String jobId) throws IOException {
    List<Task> tasks = new java.util.ArrayList<>();
    for (JsonNode vertex :
        send(HttpRequest.newBuilder(uri("/jobs/" + jobId)).GET(), "job " + jobId)
            .path("vertices")) {
      String id = vertex.path("id").asText();
      JsonNode details =
          send(
              HttpRequest.newBuilder(uri("/jobs/" + jobId + "/vertices/" + id)).GET(),
              "task " + id + " of " + jobId);
      tasks.add(new Task(vertex.path("name").asText(), subtasks(details)));
    }
    return tasks;
  }

  /** The subtasks of {@code GET /jobs/:jobid/vertices/:vertexid}, with their metrics. */
  static List<SubtaskLoad> subtasks(JsonNode vertexDetails) {
    List<SubtaskLoad> subtasks = new java.util.ArrayList<>();
    for (JsonNode subtask : vertexDetails.path("subtasks")) {
      JsonNode metrics = subtask.path("metrics");
      subtasks.add(
          new SubtaskLoad(
              metrics.path("read-records").asLong(),
              metrics.path("accumulated-busy-time").asLong()));
    }
    return subtasks;
  }

  private URI uri(String path) {
    return URI.create(baseUrl + path);
  }

  private JsonNode send(HttpRequest.Builder request, String what) throws IOException {
    HttpResponse<String> response;
    try {
      response =
          http.send(
              request.timeout(timeout).build(),
              HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(what + ": interrupted", e);
    } catch (IOException e) {
      throw new IOException(
          what + ": Flink at " + baseUrl + " did not answer (" + e.getMessage() + ")", e);
    }
    if (response.statusCode() >= 300) {
      throw new IOException(
          what + ": Flink answered " + response.statusCode() + ": " + errors(response.body()));
    }
    String body = response.body();
    return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
  }

  private static String errors(String body) {
    try {
      JsonNode errors = JSON.readTree(body).path("errors");
      if (errors.isArray() && !errors.isEmpty()) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode e : errors) {
          for (String line : e.asText().split("\n")) {
            // Flink wraps the job's own error deep in the stack trace: keep the informative lines.
            if (line.contains("Exception:") && !line.contains("ProgramInvocationException")) {
              sb.append(line.strip()).append(" | ");
            }
          }
        }
        return sb.length() > 0
            ? sb.substring(0, sb.length() - 3)
            : firstLine(errors.get(0).asText());
      }
    } catch (IOException ignored) {
      // not JSON
    }
    return firstLine(body);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
