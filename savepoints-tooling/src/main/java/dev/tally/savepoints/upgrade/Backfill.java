package dev.tally.savepoints.upgrade;

import dev.tally.jobs.IngestionJob;
import dev.tally.jobs.JobArgs;
import dev.tally.jobs.JobOptions;
import dev.tally.savepoints.FlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.audit.Audit;
import dev.tally.sinks.postgres.CommittedRows;
import dev.tally.sinks.postgres.GenerationRanges;
import dev.tally.sinks.postgres.GenerationRegistry;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.flink.api.common.JobStatus;

/**
 * A backfill: a new, bounded generation over a range of the raw topic (Kafka record timestamps
 * [from, to)), run to completion, audited, and only then flipped in for analysts. Nothing is
 * flipped when the job fails, does not finish within the deadline, commits nothing, or when any
 * audit check fails — and each of these is reported as a problem, never silently.
 */
public final class Backfill {
  private final FlinkRest flink;
  private final Callable<Connection> admin;
  private final PrintStream out;

  private final Releaser releaser;

  /** Releases an abandoned generation ({@link ReleaseGeneration#release}); tests record it. */
  @FunctionalInterface
  public interface Releaser {
    ReleaseGeneration.Released release(Connection admin, String bootstrap, String generation)
        throws Exception;
  }

  public Backfill(FlinkRest flink, Callable<Connection> admin, PrintStream out) {
    this(flink, admin, out, ReleaseGeneration::release);
  }

  public Backfill(FlinkRest flink, Callable<Connection> admin, PrintStream out, Releaser releaser) {
    this.flink = flink;
    this.admin = admin;
    this.out = out;
    this.releaser = releaser;
  }

  /** Where the backfill reads and what it is audited against. */
  public record Range(
      String generation,
      Instant from,
      Instant to,
      String bootstrap,
      String rawTopic,
      String enrichedTopic,
      String deadLetterTopic) {}

  /** The outcome; {@code flipped} only when every check held. */
  public record Result(boolean flipped, String jobId, List<String> problems, Audit.Report audit) {}

  /** What a backfill that finished and passed its audit changes for analysts. */
  public enum Apply {
    /** Its rows replace the live generation's for the windows inside its range (the default). */
    RANGE,
    /** It becomes the active generation: a rebuild of everything the live generation counted. */
    REPLACE,
    /** Nothing: audit only. */
    NONE
  }

  public Result run(Path jar, List<String> baseArgs, Range range, Apply apply, Duration deadline)
      throws Exception {
    List<String> problems = new ArrayList<>();
    String before;
    try (Connection c = admin.call()) {
      before = GenerationRegistry.active(c);
      String refusal =
          apply == Apply.RANGE ? GenerationRanges.refusal(c, range.from(), range.to()) : null;
      if (refusal != null) {
        return new Result(false, null, List.of(refusal), null);
      }
    }
    Duration[] read =
        apply == Apply.RANGE ? readWindow(baseArgs) : new Duration[] {Duration.ZERO, Duration.ZERO};
    List<String> args =
        JobArgs.parse(baseArgs)
            .set(
                JobOptions.STARTING_OFFSETS,
                "timestamp:" + range.from().minus(read[0]).toEpochMilli())
            .set(
                JobOptions.STOPPING_OFFSETS, "timestamp:" + range.to().plus(read[1]).toEpochMilli())
            .toList();
    out.printf("backfill %s: %s → %s%n", range.generation(), range.from(), range.to());
    String job = flink.submit(jar, IngestionJob.class.getName(), args, null);
    JobStatus state = awaitTerminal(job, range.generation(), deadline);
    if (state != JobStatus.FINISHED) {
      if (state == null) {
        flink.cancel(job);
        JobSubmission.awaitTerminal(flink, job, Duration.ofSeconds(60));
        problems.add("the backfill did not finish within " + deadline.toMinutes() + " min");
      } else {
        problems.add("the backfill job is " + state + ": " + flink.rootException(job));
      }
      // an abandoned backfill must not leave open transactions blocking readers of the topics
      try (Connection c = admin.call()) {
        out.println(
            "released backfill generation "
                + range.generation()
                + ": "
                + releaser.release(c, range.bootstrap(), range.generation()));
      }
      return new Result(false, job, problems, null);
    }
    Audit.Report audit;
    try (Connection c = admin.call()) {
      CommittedRows.LedgerTotals ledger = CommittedRows.ledgerTotals(c, range.generation());
      if (ledger.consumed() == 0) {
        problems.add("the backfill committed no records: nothing in the range?");
      }
      audit =
          Audit.run(
              c,
              new Audit.Target(
                  range.generation(),
                  range.bootstrap(),
                  range.rawTopic(),
                  range.enrichedTopic(),
                  range.deadLetterTopic(),
                  Duration.ofSeconds(30)),
              3,
              Duration.ofSeconds(2));
      for (Audit.Check check : audit.checks()) {
        if (!check.ok()) {
          problems.add(
              "audit: "
                  + check.name()
                  + ": expected "
                  + check.expected()
                  + ", found "
                  + check.actual());
        }
      }
      if (problems.isEmpty() && apply == Apply.REPLACE) {
        GenerationRegistry.flipTo(c, range.generation());
        out.printf(
            "flipped: analysts now see generation %s (was %s)%n", range.generation(), before);
      } else if (problems.isEmpty() && apply == Apply.RANGE) {
        String refusal = GenerationRanges.refusal(c, range.from(), range.to());
        if (refusal != null) {
          problems.add(refusal);
        } else {
          GenerationRanges.apply(c, range.generation(), range.from(), range.to());
          out.printf(
              "applied: analysts see generation %s for the windows in [%s, %s) and generation %s"
                  + " everywhere else%n",
              range.generation(), range.from(), range.to(), before);
        }
      }
    }
    return new Result(problems.isEmpty() && apply != Apply.NONE, job, problems, audit);
  }

  /**
   * How much before and after the range the bounded job reads (Kafka record timestamps are send
   * times, not event times): from a minute before it, so an event sent slightly before its own
   * timestamp is read, until every event of the range that the live generation could still accept
   * has been sent — the range's end plus out-of-orderness plus allowed lateness, plus a minute.
   * Rows outside the range are written but never shown (the views take only windows inside it).
   */
  public static Duration[] readWindow(List<String> baseArgs) {
    var s = IngestionJob.generationSettings(JobArgs.parse(baseArgs).toConfiguration());
    return new Duration[] {
      Duration.ofMinutes(1),
      Duration.ofMillis(s.maxOutOfOrdernessMs() + s.allowedLatenessMs()).plusMinutes(1)
    };
  }

  /** The terminal state the job reached, or null if it was still running at the deadline. */
  private JobStatus awaitTerminal(String job, String generation, Duration deadline)
      throws Exception {
    long end = System.nanoTime() + deadline.toNanos();
    long lastReport = 0;
    while (System.nanoTime() < end) {
      JobStatus state = flink.jobState(job);
      if (state.isGloballyTerminalState()) {
        return state;
      }
      if (System.nanoTime() - lastReport > 5_000_000_000L) {
        lastReport = System.nanoTime();
        try (Connection c = admin.call()) {
          out.printf(
              "  %s: %,d records committed so far%n",
              state, CommittedRows.ledgerTotals(c, generation).consumed());
        } catch (Exception e) {
          out.printf("  %s%n", state);
        }
      }
      Thread.sleep(500);
    }
    return null;
  }
}
