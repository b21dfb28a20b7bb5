package dev.tally.operators.model;

/**
 * A change to one ledger row (SEMANTICS.md §8). Each input record contributes {@code consumed} once
 * where it is read and exactly one outcome where it is decided; the ledger sums them independently,
 * so an imbalance is a real finding, not a tautology.
 */
public class LedgerEntry {
  /** Dead letters are accounted under this project, which no valid project can be named. */
  public static final String INVALID_PROJECT = "_invalid";

  /** {@link #hourStart} of dead letters: they have no trustworthy hour. */
  public static final long NO_HOUR = Long.MIN_VALUE;

  public String project;
  public long hourStart;
  public int consumed;
  public int aggregated;
  public int duplicates;
  public int tooLate;
  public int deadLettered;

  public LedgerEntry() {}

  private static LedgerEntry of(String project, long eventMillis) {
    LedgerEntry e = new LedgerEntry();
    e.project = project;
    e.hourStart = Times.hourStart(eventMillis);
    return e;
  }

  public static LedgerEntry consumed(ValidEvent event) {
    LedgerEntry e = of(event.project, event.timestampMillis);
    e.consumed = 1;
    return e;
  }

  public static LedgerEntry aggregated(ValidEvent event) {
    LedgerEntry e = of(event.project, event.timestampMillis);
    e.aggregated = 1;
    return e;
  }

  public static LedgerEntry duplicate(ValidEvent event) {
    LedgerEntry e = of(event.project, event.timestampMillis);
    e.duplicates = 1;
    return e;
  }

  public static LedgerEntry tooLate(ValidEvent event) {
    LedgerEntry e = of(event.project, event.timestampMillis);
    e.tooLate = 1;
    return e;
  }

  /**
   * A valid event whose processing failed (a bug, not bad input): dead-lettered under its own
   * project and hour, where it was already counted as consumed, so the row still balances.
   */
  public static LedgerEntry processingError(ValidEvent event) {
    LedgerEntry e = of(event.project, event.timestampMillis);
    e.deadLettered = 1;
    return e;
  }

  /** A dead letter is consumed and dead-lettered in one step. */
  public static LedgerEntry deadLettered() {
    LedgerEntry e = new LedgerEntry();
    e.project = INVALID_PROJECT;
    e.hourStart = NO_HOUR;
    e.consumed = 1;
    e.deadLettered = 1;
    return e;
  }

  public String key() {
    return project + '\u0000' + hourStart;
  }
}
