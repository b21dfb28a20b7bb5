package dev.tally.cli;

import dev.tally.cli.bench.Bench;
import dev.tally.cli.bench.PerformanceReport;
import dev.tally.cli.stack.LocalStack;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.JobSubmission;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measure the pipeline on the local stack in one run and write the table to docs/performance.md:",
      "the machine's ceiling (plain Kafka consumer + Avro decode), a reference job (Nexmark q18: decode, keyBy uuid, RocksDB dedup) and the full job draining the same backlog, the same under skew and all on one project (with the busiest keyed subtask's share), freshness at half the sustained rate, recovery after kill -9 of the TaskManager, and savepoint take/restore with many persons. Results are ratios of numbers measured in the same run."
    })
public final class BenchCommand implements Callable<Integer> {
  @Mixin StackOptions stackOptions;

  @Option(
      names = "--events",
      paramLabel = "N",
      defaultValue = "1000000",
      description = "backlog per drain phase (default ${DEFAULT-VALUE}; ignored with --quick)")
  long events;

  @Option(
      names = "--quick",
      description = "a reduced run (100,000 events, 100,000 persons) in about 3 minutes")
  boolean quick;

  @Option(
      names = "--report",
      paramLabel = "FILE",
      description = "where to write the table (default docs/performance.md)")
  Path report;

  @Option(
      names = "--phases",
      paramLabel = "P,…",
      split = ",",
      description =
          "only these phases: ceiling, pipeline, skew, freshness (with recovery), savepoint, capture,"
              + " micro (JMH of the hot-path steps) (default: all)")
  List<String> phases;

  @Option(names = "--job-option", paramLabel = "KEY=VALUE", description = JobOptionArgs.DESCRIPTION)
  List<String> jobOptions;

  @Option(
      names = "--live-rate",
      paramLabel = "EVENTS_PER_S",
      description =
          "live traffic of the freshness and recovery phases at this rate instead of half the"
              + " sustained rate (for A/B runs at equal load; recorded in the report)")
  Double liveRate;

  @Option(names = "--keep", description = "leave the stack running at the end")
  boolean keep;

  @Override
  public Integer call() throws Exception {
    if (!quick && events < 10_000) {
      throw new UserFacingErrors.UsageError("--events must be at least 10000");
    }
    java.util.Set<String> selected =
        new java.util.LinkedHashSet<>(phases != null ? phases : Bench.Plan.PHASES);
    for (String p : selected) {
      if (!Bench.Plan.PHASES.contains(p)) {
        throw new UserFacingErrors.UsageError(
            "--phases: unknown phase '"
                + p
                + "' (known: "
                + String.join(", ", Bench.Plan.PHASES)
                + ")");
      }
    }
    java.util.Map<String, String> options = JobOptionArgs.parse(jobOptions);
    if (liveRate != null && !(liveRate > 0)) {
      throw new UserFacingErrors.UsageError("--live-rate must be a positive number of events/s");
    }
    Bench.Plan planned =
        (quick ? Bench.Plan.quick(selected) : Bench.Plan.full(events, selected))
            .withJobOptions(options);
    Bench.Plan plan = liveRate != null ? planned.withLiveRate(liveRate) : planned;
    StackOptions.Session session = stackOptions.upIfNeeded();
    LocalStack stack = session.stack();
    FlinkRest flink = new HttpFlinkRest(stack.layout().flinkRestUrl(), Duration.ofSeconds(30));
    AtomicBoolean stop = new AtomicBoolean();
    Bench bench =
        new Bench(stack, flink, System.out, stop, JobSubmission.jobJar(StackOptions.home()));
    return StackOptions.withCleanUp(
        stop,
        () -> cleanUp(stack, flink, bench, session.started()),
        () -> {
          List<Bench.Row> rows = bench.run(plan);
          System.out.println();
          System.out.print(PerformanceReport.text(rows));
          Path file = report != null ? report : StackOptions.home().resolve("docs/performance.md");
          PerformanceReport.write(file, PerformanceReport.markdown(rows, plan, quick));
          System.out.println("\nwritten to " + file);
          return rows.stream().allMatch(r -> r.met() == null || r.met()) ? 0 : 1;
        });
  }

  private void cleanUp(LocalStack stack, FlinkRest flink, Bench bench, boolean startedStack) {
    try {
      for (String job : bench.runningJobs()) {
        flink.cancel(job);
        JobSubmission.awaitTerminal(flink, job, Duration.ofSeconds(30));
      }
      try (Connection admin = stack.admin()) {
        for (String generation : bench.generations()) {
          dev.tally.savepoints.upgrade.ReleaseGeneration.release(
              admin, stack.layout().kafkaBootstrap(), generation);
        }
      }
      if (startedStack && !keep) {
        System.out.println("stopped: " + String.join(", ", stack.down()));
      }
    } catch (Exception e) {
      System.err.println("tally: bench cleanup failed: " + UserFacingErrors.describe(e));
    }
  }
}
