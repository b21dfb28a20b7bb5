package dev.tally.cli.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * How a job's work was split between the subtasks of its keyed tasks, from the JobManager's REST
 * API (records read and accumulated busy time per subtask). A keyed task whose busiest subtask was
 * busy for the whole drain bounds the pipeline, whatever the other subtasks and cores do.
 */
final class SubtaskLoad {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One subtask: records it read and milliseconds it was busy (not idle, not back-pressured). */
  record Subtask(long records, long busyMillis) {}

  private SubtaskLoad() {}

  /** Per task whose name starts with one of {@code prefixes}: its subtasks in index order. */
  static Map<String, List<Subtask>> of(String restUrl, String jobId, List<String> prefixes)
      throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    Map<String, List<Subtask>> load = new LinkedHashMap<>();
    for (JsonNode vertex : get(http, restUrl + "/jobs/" + jobId).path("vertices")) {
      String name = vertex.path("name").asText();
      if (prefixes.stream().noneMatch(name::startsWith)) {
        continue;
      }
      JsonNode details =
          get(http, restUrl + "/jobs/" + jobId + "/vertices/" + vertex.get("id").asText());
      load.put(name, subtasks(details));
    }
    return load;
  }

  static List<Subtask> subtasks(JsonNode vertexDetails) {
    List<Subtask> subtasks = new ArrayList<>();
    for (JsonNode subtask : vertexDetails.path("subtasks")) {
      JsonNode metrics = subtask.path("metrics");
      subtasks.add(
          new Subtask(
              metrics.path("read-records").asLong(),
              metrics.path("accumulated-busy-time").asLong()));
    }
    return subtasks;
  }

  /** "248,000 / 49,000 records, busy 14.0 / 4.8 s" for a report cell. */
  static String describe(List<Subtask> subtasks) {
    List<String> records = new ArrayList<>();
    List<String> busy = new ArrayList<>();
    for (Subtask s : subtasks) {
      records.add(String.format(Locale.ROOT, "%,d", s.records()));
      busy.add(String.format(Locale.ROOT, "%.1f", s.busyMillis() / 1000.0));
    }
    return String.join(" / ", records) + " records, busy " + String.join(" / ", busy) + " s";
  }

  private static JsonNode get(HttpClient http, String url)
      throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET " + url + ": HTTP " + response.statusCode());
    }
    return JSON.readTree(response.body());
  }
}
