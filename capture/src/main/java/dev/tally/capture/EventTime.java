package dev.tally.capture;

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

  static String format(Instant i) {
    return OUT.format(i.truncatedTo(ChronoUnit.MILLIS));
  }

  /**
   * RFC 3339 / ISO 8601 date-time with an offset or {@code Z} (also {@code ±HH}, a space for the
   * {@code T}); without a zone it is UTC; all digits: epoch seconds (10 or fewer) or milliseconds.
   * Null if unreadable.
   */
  static Instant parse(String s) {
    String t = s.strip();
    if (!t.isEmpty() && t.length() <= 16 && t.chars().allMatch(Character::isDigit)) {
      long v = Long.parseLong(t);
      return t.length() <= 10 ? Instant.ofEpochSecond(v) : Instant.ofEpochMilli(v);
    }
    if (t.matches(".*T\\d\\d:\\d\\d:\\d\\d(\\.\\d{1,9})?[+-]\\d\\d")) {
      t = t + ":00";
    }
    if (t.length() > 10 && t.charAt(10) == ' ') {
      t = t.substring(0, 10) + 'T' + t.substring(11);
    }
    if (!t.matches("\\d{4}-\\d\\d-\\d\\d[Tt]\\d\\d:\\d\\d:\\d\\d.*")) {
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
