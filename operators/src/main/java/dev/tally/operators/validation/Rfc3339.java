package dev.tally.operators.validation;

/**
 * RFC 3339 {@code date-time} as SEMANTICS.md §1 narrows it: {@code T}/{@code t} separator, seconds
 * required (60 rejected), any fraction length truncated to milliseconds, zone {@code Z}, {@code z}
 * or {@code ±HH:MM} with hours 00–23, instant in [2000-01-01, 2100-01-01).
 */
public final class Rfc3339 {
  static final long MIN_MILLIS = 946_684_800_000L; // 2000-01-01T00:00:00Z
  static final long MAX_MILLIS_EXCLUSIVE = 4_102_444_800_000L; // 2100-01-01T00:00:00Z

  private Rfc3339() {}

  /**
   * Epoch millis of the timestamp, or {@code null} when it is not valid under the contract. A
   * hand-written scanner (no regex, no allocation): it runs once per event.
   */
  public static Long parseMillis(String s) {
    int n = s.length();
    if (n < 20
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || (s.charAt(10) != 'T' && s.charAt(10) != 't')
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) {
      return null;
    }
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      return null;
    }
    if (hour > 23 || minute > 59 || second > 59) {
      return null;
    }
    int i = 19;
    int millis = 0;
    if (s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && isDigit(s.charAt(i))) {
        i++;
      }
      if (i == start) {
        return null;
      }
      for (int k = 0; k < 3; k++) { // truncate to milliseconds, never round
        millis = millis * 10 + (start + k < i ? s.charAt(start + k) - '0' : 0);
      }
    }
    if (i >= n) {
      return null;
    }
    long offsetMinutes = 0;
    char zone = s.charAt(i);
    if (zone == 'Z' || zone == 'z') {
      if (i + 1 != n) {
        return null;
      }
    } else if (zone == '+' || zone == '-') {
      if (i + 6 != n || s.charAt(i + 3) != ':') {
        return null;
      }
      int oh = digits(s, i + 1, 2);
      int om = digits(s, i + 4, 2);
      if (oh < 0 || om < 0 || oh > 23 || om > 59) {
        return null;
      }
      offsetMinutes = (oh * 60L + om) * (zone == '-' ? -1 : 1);
    } else {
      return null;
    }
    long days = daysFromCivil(year, month, day);
    long local = ((days * 24 + hour) * 60 + minute) * 60 + second;
    long epochMillis = (local - offsetMinutes * 60) * 1000 + millis;
    if (epochMillis < MIN_MILLIS || epochMillis >= MAX_MILLIS_EXCLUSIVE) {
      return null;
    }
    return epochMillis;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** The ASCII decimal number of {@code length} chars at {@code from}, or -1. */
  private static int digits(String s, int from, int length) {
    int value = 0;
    for (int i = from; i < from + length; i++) {
      char c = s.charAt(i);
      if (!isDigit(c)) {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private static int daysInMonth(int year, int month) {
    return switch (month) {
      case 2 -> (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
      case 4, 6, 9, 11 -> 30;
      default -> 31;
    };
  }

  /** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
  private static long daysFromCivil(int y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    long era = Math.floorDiv(y, 400);
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
  }
}
