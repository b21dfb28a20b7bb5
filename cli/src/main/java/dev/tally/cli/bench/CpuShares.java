package dev.tally.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Who used the machine's CPU during a phase, from Linux {@code /proc}: CPU time (user + system) of
 * every process, grouped by role in the local stack, as a share of what the machine had (cores ×
 * wall time). It shows how much of the two cores the TaskManager actually got while the broker,
 * PostgreSQL and the traffic generator ran beside it. Empty where there is no {@code /proc}.
 */
final class CpuShares {
  private static final Path PROC = Path.of("/proc");
  private static final double TICKS_PER_SECOND = 100; // USER_HZ on Linux

  /**
   * CPU seconds per role at one moment, and per thread of the TaskManager (thread names as the
   * kernel keeps them: the first 15 characters, digits folded, e.g. "deduplicate -> ").
   */
  record Snapshot(
      long nanos,
      Map<String, Double> cpuSeconds,
      Map<String, Double> taskManager,
      Map<String, Double> cli) {}

  private CpuShares() {}

  static boolean available() {
    return Files.isReadable(PROC.resolve("self/stat"));
  }

  static Snapshot take() {
    Map<String, Double> seconds = new TreeMap<>();
    Map<String, Double> taskManager = new TreeMap<>();
    Map<String, Double> cli = new TreeMap<>();
    long self = ProcessHandle.current().pid();
    if (available()) {
      try (Stream<Path> entries = Files.list(PROC)) {
        entries
            .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
            .forEach(
                p -> {
                  try {
                    boolean isSelf = Long.parseLong(p.getFileName().toString()) == self;
                    String role = role(p, isSelf);
                    seconds.merge(role, cpuSeconds(p.resolve("stat")), Double::sum);
                    if (TASK_MANAGER.equals(role) || isSelf) {
                      Map<String, Double> into = isSelf ? cli : taskManager;
                      try (Stream<Path> threads = Files.list(p.resolve("task"))) {
                        threads.forEach(t -> addThread(t, into));
                      }
                    }
                  } catch (IOException | RuntimeException gone) {
                    // the process ended between listing and reading
                  }
                });
      } catch (IOException e) {
        return new Snapshot(System.nanoTime(), Map.of(), Map.of(), Map.of());
      }
    }
    return new Snapshot(System.nanoTime(), seconds, taskManager, cli);
  }

  private static final String TASK_MANAGER = "Flink TaskManager";

  /** user + system CPU seconds from a /proc stat file. */
  private static double cpuSeconds(Path stat) throws IOException {
    String text = Files.readString(stat, StandardCharsets.US_ASCII);
    // the fields after the command name (which may contain spaces) start at ") "
    String[] f = text.substring(text.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
  }

  private static void addThread(Path thread, Map<String, Double> into) {
    try {
      String text = Files.readString(thread.resolve("stat"), StandardCharsets.US_ASCII);
      String name = text.substring(text.indexOf('(') + 1, text.lastIndexOf(')'));
      into.merge(
          name.replaceAll("[0-9]+", "#").strip(), cpuSeconds(thread.resolve("stat")), Double::sum);
    } catch (IOException | RuntimeException gone) {
      // the thread ended
    }
  }

  private static String role(Path process, boolean self) throws IOException {
    if (self) {
      return "tally CLI (traffic, bench)";
    }
    String cmdline =
        Files.readString(process.resolve("cmdline"), StandardCharsets.UTF_8).replace('\0', ' ');
    if (cmdline.contains("TaskManagerRunner")) {
      return TASK_MANAGER;
    }
    if (cmdline.contains("StandaloneSessionClusterEntrypoint")) {
      return "Flink JobManager";
    }
    if (cmdline.contains("kafka.Kafka")) {
      return "Kafka broker";
    }
    String comm = Files.readString(process.resolve("comm"), StandardCharsets.US_ASCII).strip();
    if (comm.startsWith("postgres")) {
      return "PostgreSQL";
    }
    return "other";
  }

  /** Each role's share of the machine between two snapshots, largest first. */
  static Map<String, Double> between(Snapshot before, Snapshot after) {
    double capacity =
        Runtime.getRuntime().availableProcessors() * (after.nanos() - before.nanos()) / 1e9;
    return shares(before.cpuSeconds(), after.cpuSeconds(), capacity, 0.005);
  }

  /** Cores used by each TaskManager thread group between two snapshots, largest first. */
  static Map<String, Double> taskManagerThreads(Snapshot before, Snapshot after) {
    double seconds = (after.nanos() - before.nanos()) / 1e9;
    return shares(before.taskManager(), after.taskManager(), seconds, 0.02);
  }

  /**
   * TaskManager CPU seconds between two snapshots: {@code [all, JIT compiler threads]}, so that a
   * rate per CPU-second can be shown with the JIT's share apart (a new job's code is compiled while
   * it runs).
   */
  static double[] taskManagerCpuSeconds(Snapshot before, Snapshot after) {
    double all =
        after.cpuSeconds().getOrDefault(TASK_MANAGER, 0.0)
            - before.cpuSeconds().getOrDefault(TASK_MANAGER, 0.0);
    double jit = 0;
    for (Map.Entry<String, Double> t : after.taskManager().entrySet()) {
      if (t.getKey().contains("CompilerThre")) {
        jit += t.getValue() - before.taskManager().getOrDefault(t.getKey(), 0.0);
      }
    }
    return new double[] {all, jit};
  }

  /** "count events an 0.38; deduplicate -> 0.36" for a report cell (no '|': it is a table). */
  static String describeCores(Map<String, Double> cores) {
    List<String> parts = new ArrayList<>();
    cores.forEach((name, c) -> parts.add(String.format("%s %.2f", name.replace("|", "/"), c)));
    return String.join("; ", parts);
  }

  /** Cores used by each thread group of this JVM between two snapshots, largest first. */
  static Map<String, Double> cliThreads(Snapshot before, Snapshot after) {
    double seconds = (after.nanos() - before.nanos()) / 1e9;
    return shares(before.cli(), after.cli(), seconds, 0.02);
  }

  private static Map<String, Double> shares(
      Map<String, Double> before, Map<String, Double> after, double capacity, double least) {
    Map<String, Double> shares = new LinkedHashMap<>();
    after.entrySet().stream()
        .map(
            e ->
                Map.entry(
                    e.getKey(), (e.getValue() - before.getOrDefault(e.getKey(), 0.0)) / capacity))
        .filter(e -> e.getValue() > least)
        .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
        .forEach(e -> shares.put(e.getKey(), e.getValue()));
    return shares;
  }
}
