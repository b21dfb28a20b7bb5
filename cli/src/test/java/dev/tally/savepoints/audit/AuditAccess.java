package dev.tally.savepoints.audit;

import dev.tally.sinks.kafka.OpenTransactions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** The audit's package-private checks, for tests in other packages. */
public final class AuditAccess {
  private AuditAccess() {}

  public static List<OpenTransactions.Open> openTooLong(
      List<OpenTransactions.Open> open, Duration maxAge) {
    return Audit.openTooLong(open, maxAge, Instant.now());
  }

  public static Audit.Check openTransactionsCheck(
      List<OpenTransactions.Open> blocking, Duration maxAge) {
    return Audit.openTransactionsCheck(blocking, maxAge);
  }
}
