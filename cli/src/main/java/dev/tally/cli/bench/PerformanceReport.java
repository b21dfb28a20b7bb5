package dev.tally.cli.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * The benchmark's table in Markdown, with the machine and the settings, written between markers
 * into docs/performance.md so that the hand-written findings around it stay.
 */
public final class PerformanceReport {
  static final String BEGIN = "<!-- bench:begin (written by ./tally bench) -->";
  static final String END = "<!-- bench:end -->";

  private PerformanceReport() {}

  public static String markdown(List<Bench.Row> rows, Bench.Plan plan, boolean quick) {
    StringBuilder sb = new StringBuilder();
    sb.append("### Run of ")
        .append(Instant.now().truncatedTo(ChronoUnit.SECONDS))
        .append(quick ? " (`--quick`)" : "")
        .append("\n\n");
    sb.append("Machine: ").append(machine()).append("  \n");
    sb.append("Versions: ").append(versions()).append("  \n");
    sb.append(
            String.format(
                "Settings: backlog %,d events per phase (after one unmeasured warm-up drain of a"
                    + " fifth of it), parallelism 2, checkpoints every %d s"
                    + " (exactly-once, RocksDB), steady freshness sampled %d s once the live job caught"
                    + " up, %,d persons in"
                    + " the savepoint; local stack (Kafka, PostgreSQL, Flink JobManager and two"
                    + " TaskManagers, each job spread over both with room for the other's share)"
                    + " on the same machine.",
                plan.events(),
                Bench.CHECKPOINT_INTERVAL.toSeconds(),
                plan.steady().toSeconds(),
                plan.persons()))
        .append(
            plan.jobOptions().isEmpty()
                ? ""
                : " Job options: "
                    + plan.jobOptions().entrySet().stream()
                        .map(e -> "`" + e.getKey() + "=" + e.getValue() + "`")
                        .collect(java.util.stream.Collectors.joining(", "))
                    + ".")
        .append(
            plan.fixedLiveRate()
                ? String.format(" Live traffic at %,.0f events/s (`--live-rate`).", plan.liveRate())
                : "")
        .append("\n\n");
    sb.append("| measure | result | target | met |\n|---|---|---|---|\n");
    for (Bench.Row r : rows) {
      sb.append("| ")
          .append(r.measure().strip())
          .append(" | ")
          .append(r.value())
          .append(" | ")
          .append(r.target())
          .append(" | ")
          .append(r.met() == null ? "" : r.met() ? "yes" : "**no**")
          .append(" |\n");
    }
    return sb.toString();
  }

  public static String text(List<Bench.Row> rows) {
    StringBuilder sb = new StringBuilder();
    for (Bench.Row r : rows) {
      sb.append(
          String.format(
              "%-72s %-34s %-12s %s%n",
              r.measure(),
              r.value(),
              r.target(),
              r.met() == null ? "" : r.met() ? "met" : "NOT MET"));
    }
    return sb.toString();
  }

  static String machine() {
    long memory =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getTotalMemorySize();
    return String.format(
        "%d cores, %.1f GB memory, %s %s, Java %s (%s)",
        Runtime.getRuntime().availableProcessors(),
        memory / 1e9,
        System.getProperty("os.name"),
        System.getProperty("os.arch"),
        System.getProperty("java.version"),
        System.getProperty("java.vendor"));
  }

  static String versions() {
    return "Flink "
        + org.apache.flink.runtime.util.EnvironmentInformation.getVersion()
        + ", Kafka clients "
        + org.apache.kafka.common.utils.AppInfoParser.getVersion();
  }

  /** Replaces the generated section of {@code file} (or appends one) with {@code section}. */
  public static void write(Path file, String section) throws IOException {
    String existing =
        Files.exists(file)
            ? Files.readString(file, StandardCharsets.UTF_8)
            : "# Performance\n\n## Latest benchmark\n\n" + BEGIN + "\n" + END + "\n";
    int begin = existing.indexOf(BEGIN);
    int end = existing.indexOf(END);
    String updated =
        begin < 0 || end < begin
            ? existing + "\n" + BEGIN + "\n" + section + END + "\n"
            : existing.substring(0, begin + BEGIN.length())
                + "\n"
                + section
                + existing.substring(end);
    Files.writeString(file, updated, StandardCharsets.UTF_8);
  }
}
