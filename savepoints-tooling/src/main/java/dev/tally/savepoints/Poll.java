package dev.tally.savepoints;

import java.time.Duration;

/**
 * The one way Tally's tooling waits for a cluster, a job or a database: ask every {@code every}
 * until there is an answer or the time is up. The probe decides what an answer is (and may throw to
 * stop waiting at once, e.g. when the job failed); the caller says what a timeout means.
 */
public final class Poll {
  private Poll() {}

  /** One look; null: not yet. */
  @FunctionalInterface
  public interface Probe<T> {
    T ask() throws Exception;
  }

  /** The first answer, or null if none came within {@code timeout} (asked at least once). */
  public static <T> T until(Duration timeout, Duration every, Probe<T> probe) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      T answer = probe.ask();
      if (answer != null) {
        return answer;
      }
      if (System.nanoTime() - deadline >= 0) {
        return null;
      }
      Thread.sleep(every.toMillis());
    }
  }
}
