package dev.tally.operators.validation;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * RFC 3339 {@code date-time} as SEMANTICS.md §1 narrows it: {@code T}/{@code t} separator, seconds
 * required (60 rejected), any fraction length truncated to milliseconds, zone {@code Z}, {@code z}
 * or {@code ±HH:MM} with hours 00–23, instant in [2000-01-01, 2100-01-01).
 */
public final class Rfc3339 {
  private static final Pattern DATE_TIME =
      Pattern.compile(
          "(\\d{4})-(\\d{2})-(\\d{2})[Tt](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d+))?(?:([Zz])|([+-])(\\d{2}):(\\d{2}))");

  static final long MIN_MILLIS = 946_684_800_000L; // 2000-01-01T00:00:00Z
  static final long MAX_MILLIS_EXCLUSIVE = 4_102_444_800_000L; // 2100-01-01T00:00:00Z

  private Rfc3339() {}

  /** Epoch millis of the timestamp, or {@code null} when it is not valid under the contract. */
  public static Long parseMillis(String s) {
    Matcher m = DATE_TIME.matcher(s);
    if (!m.matches()) {
      return null;
    }
    int year = Integer.parseInt(m.group(1));
    int month = Integer.parseInt(m.group(2));
    int day = Integer.parseInt(m.group(3));
    int hour = Integer.parseInt(m.group(4));
    int minute = Integer.parseInt(m.group(5));
    int second = Integer.parseInt(m.group(6));
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
      return null;
    }
    if (hour > 23 || minute > 59 || second > 59) {
      return null;
    }
    int millis = 0;
    String fraction = m.group(7);
    if (fraction != null) {
      String ms = (fraction + "00").substring(0, 3); // truncate, never round
      millis = Integer.parseInt(ms);
    }
    long offsetMinutes = 0;
    if (m.group(8) == null) {
      int oh = Integer.parseInt(m.group(10));
      int om = Integer.parseInt(m.group(11));
      if (oh > 23 || om > 59) {
        return null;
      }
      offsetMinutes = (oh * 60L + om) * ("-".equals(m.group(9)) ? -1 : 1);
    }
    long days = daysFromCivil(year, month, day);
    long local = ((days * 24 + hour) * 60 + minute) * 60 + second;
    long epochMillis = (local - offsetMinutes * 60) * 1000 + millis;
    if (epochMillis < MIN_MILLIS || epochMillis >= MAX_MILLIS_EXCLUSIVE) {
      return null;
    }
    return epochMillis;
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
