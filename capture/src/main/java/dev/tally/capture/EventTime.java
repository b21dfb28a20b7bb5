package dev.tally.capture;

import dev.tally.operators.validation.Rfc3339;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * The time of a captured event, corrected for the sending device's clock as PostHog does
 * (docs/capture.md, "Event time"):
 *
 * <ol>
 *   <li>{@code offset} given (milliseconds before sending, 0 included): {@code now - offset};
 *   <li>else {@code timestamp} and {@code sent_at} (the batch's, else the query's {@code _} in
 *       milliseconds; none when {@code properties.$ignore_sent_at} is true): the device's clock is
 *       off by {@code sent_at - now}, so the event happened at {@code timestamp - (sent_at - now)};
 *   <li>else {@code timestamp} as given;
 *   <li>else {@code now}, the moment the request arrived.
 * </ol>
 *
 * A result more than 23 hours after {@code now} is taken as {@code now} (a device clock far ahead).
 * Unlike PostHog, which takes {@code now} for a {@code timestamp} it cannot read, the door keeps
 * such a text as it was sent (when no {@code offset} replaces it), so the job dead-letters the
 * event with {@code invalid_field:timestamp} instead of the door making up a time.
 */
final class EventTime {
  private EventTime() {}

  static final Duration MAX_FUTURE = Duration.ofHours(23);

  private static final DateTimeFormatter OUT =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /**
   * @param timestamp the event's {@code timestamp}, or null
   * @param sentAt the event's or else the batch's {@code sent_at}, or null
   * @param offsetMillis the event's {@code offset}, or null
   * @param ignoreSentAt {@code properties.$ignore_sent_at}
   * @param now when the request arrived
   * @return RFC 3339 text for the raw event
   */
  static String resolve(
      String timestamp, String sentAt, Long offsetMillis, boolean ignoreSentAt, Instant now) {
    Instant ts = timestamp == null ? null : parse(timestamp);
    Instant sent = sentAt == null || ignoreSentAt ? null : parse(sentAt);
    Instant result;
    if (offsetMillis != null) {
      result = now.minusMillis(offsetMillis);
    } else if (timestamp != null && ts == null) {
      return timestamp; // unreadable: the job says so, with its reason
    } else if (ts != null && sent != null) {
      result = ts.plus(Duration.between(sent, now));
    } else if (ts != null) {
      result = ts;
    } else {
      result = now;
    }
    if (result.isAfter(now.plus(MAX_FUTURE))) {
      result = now;
    }
    return format(result);
  }

  private static final java.util.regex.Pattern HOURS_ONLY_OFFSET =
      java.util.regex.Pattern.compile(".*T\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?[+-]\\d\\d");

  /** Seconds, then a fraction with at least one digit or none at all (java.time takes "00.Z"). */
  private static final java.util.regex.Pattern WITH_SECONDS =
      java.util.regex.Pattern.compile(
          "\\d{4}-\\d\\d-\\d\\d[Tt]\\d\\d:\\d\\d:\\d\\d(\\.\\d.*|[^.].*)?");

  /** {@code yyyy-MM-ddTHH:mm:ss.SSSZ}; by hand, as every event of every request needs it. */
  static String format(Instant i) {
    long seconds = i.getEpochSecond();
    int millis = i.getNano() / 1_000_000;
    LocalDateTime t = LocalDateTime.ofEpochSecond(seconds, 0, ZoneOffset.UTC);
    if (t.getYear() < 0 || t.getYear() > 9999) {
      return OUT.format(i.truncatedTo(ChronoUnit.MILLIS));
    }
    char[] c = new char[24];
    digits(c, 0, t.getYear(), 4);
    c[4] = '-';
    digits(c, 5, t.getMonthValue(), 2);
    c[7] = '-';
    digits(c, 8, t.getDayOfMonth(), 2);
    c[10] = 'T';
    digits(c, 11, t.getHour(), 2);
    c[13] = ':';
    digits(c, 14, t.getMinute(), 2);
    c[16] = ':';
    digits(c, 17, t.getSecond(), 2);
    c[19] = '.';
    digits(c, 20, millis, 3);
    c[23] = 'Z';
    return new String(c);
  }

  private static void digits(char[] c, int at, int value, int width) {
    for (int k = width - 1; k >= 0; k--) {
      c[at + k] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /**
   * RFC 3339 / ISO 8601 date-time with an offset or {@code Z} (also {@code ±HH}, a space for the
   * {@code T}); without a zone it is UTC; all digits: epoch seconds (10 or fewer) or milliseconds.
   * Null if unreadable.
   */
  static Instant parse(String s) {
    // the SDKs' form, by the job's own hand-written scanner (java.time and regexes per call were
    // most of the door's cost per event); anything else, or a time outside its range, below
    Long contract = Rfc3339.parseMillis(s);
    if (contract != null) {
      return Instant.ofEpochMilli(contract);
    }
    String t = s.strip();
    if (!t.isEmpty() && t.length() <= 16 && t.chars().allMatch(Character::isDigit)) {
      long v = Long.parseLong(t);
      return t.length() <= 10 ? Instant.ofEpochSecond(v) : Instant.ofEpochMilli(v);
    }
    if (HOURS_ONLY_OFFSET.matcher(t).matches()) {
      t = t + ":00";
    }
    if (t.length() > 10 && t.charAt(10) == ' ') {
      t = t.substring(0, 10) + 'T' + t.substring(11);
    }
    if (!WITH_SECONDS.matcher(t).matches()) {
      return null; // seconds are required (SEMANTICS.md §1): such a text goes on for the job to
      // judge
    }
    try {
      return OffsetDateTime.parse(t, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    } catch (DateTimeParseException e) {
      try {
        return LocalDateTime.parse(t, DateTimeFormatter.ISO_LOCAL_DATE_TIME)
            .toInstant(ZoneOffset.UTC);
      } catch (DateTimeParseException e2) {
        return null;
      }
    }
  }
}
