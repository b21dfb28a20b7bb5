package dev.tally.operators.model;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * UTC window arithmetic and the instant format of SEMANTICS.md §10 ({@code YYYY-MM-DDTHH:MM:SSZ}).
 */
public final class Times {
  public static final long MINUTE_MS = 60_000L;
  public static final long HOUR_MS = 3_600_000L;
  public static final long DAY_MS = 86_400_000L;

  private static final DateTimeFormatter SECONDS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private Times() {}

  public static long minuteStart(long millis) {
    return Math.floorDiv(millis, MINUTE_MS) * MINUTE_MS;
  }

  public static long hourStart(long millis) {
    return Math.floorDiv(millis, HOUR_MS) * HOUR_MS;
  }

  public static long dayStart(long millis) {
    return Math.floorDiv(millis, DAY_MS) * DAY_MS;
  }

  public static String format(long millis) {
    return SECONDS.format(Instant.ofEpochMilli(millis));
  }

  /** The ledger's hour column: empty for dead letters. */
  public static String formatHour(long hourStart) {
    return hourStart == LedgerEntry.NO_HOUR ? "" : format(hourStart);
  }
}
