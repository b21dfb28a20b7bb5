package dev.tally.cli.bench;

import dev.tally.savepoints.FlinkRest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * How a job's work was split between the subtasks of its keyed tasks, from the JobManager's REST
 * API (records read and accumulated busy time per subtask). A keyed task whose busiest subtask was
 * busy for the whole drain bounds the pipeline, whatever the other subtasks and cores do.
 */
final class SubtaskLoad {
  private SubtaskLoad() {}

  /** Per task whose name starts with one of {@code prefixes}: its subtasks in index order. */
  static Map<String, List<FlinkRest.SubtaskLoad>> of(
      FlinkRest flink, String jobId, List<String> prefixes) throws IOException {
    Map<String, List<FlinkRest.SubtaskLoad>> load = new LinkedHashMap<>();
    for (FlinkRest.Task task : flink.tasks(jobId)) {
      if (prefixes.stream().anyMatch(task.name()::startsWith)) {
        load.put(task.name(), task.subtasks());
      }
    }
    return load;
  }

  /** "248,000 / 49,000 records, busy 14.0 / 4.8 s" for a report cell. */
  static String describe(List<FlinkRest.SubtaskLoad> subtasks) {
    List<String> records = new ArrayList<>();
    List<String> busy = new ArrayList<>();
    for (FlinkRest.SubtaskLoad s : subtasks) {
      records.add(String.format(Locale.ROOT, "%,d", s.records()));
      busy.add(String.format(Locale.ROOT, "%.1f", s.busyMillis() / 1000.0));
    }
    return String.join(" / ", records) + " records, busy " + String.join(" / ", busy) + " s";
  }
}
