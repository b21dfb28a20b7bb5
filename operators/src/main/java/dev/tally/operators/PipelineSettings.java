package dev.tally.operators;

import java.io.Serializable;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The semantic settings of the pipeline (SEMANTICS.md §3, §6, §7), shared by the streaming job and
 * {@code tally replay}. Immutable.
 *
 * @param maxOutOfOrderness watermark = max event time seen − this (default 10 s)
 * @param allowedLateness a minute window accepts events until its end + this ≤ watermark (5 min)
 * @param breakdowns breakdown specs {@code event:<prop>} / {@code person:<prop>}, each once
 * @param dedupRetention how long a uuid is remembered; {@code null} = forever (replay)
 * @param personRetention how long a person is kept after its last update; {@code null} = forever
 * @param mode REPLAY writes the contract's files (person snapshots for persons.jsonl); STREAMING
 *     also keeps daily-active-person rows for the analyst views
 * @param bundleEvents at most this many events are pre-aggregated per row before the keyed count
 *     (hot keys, {@code PreAggregateContributions}); 1 turns pre-aggregation off
 * @param personCacheSize persons (and 4× as many links) each enrich subtask keeps in memory in
 *     front of its state ({@code PersonCache}); 0 turns the cache off. Unused under person
 *     retention (state with TTL is not cached)
 * @param countCachedPersons person_ids each count subtask keeps in memory with the rows it is
 *     counting, so that a person new to a row needs no state lookup ({@code
 *     CountEventsAndPersons}); 0 turns the cache off
 */
public record PipelineSettings(
    Duration maxOutOfOrderness,
    Duration allowedLateness,
    List<String> breakdowns,
    Duration dedupRetention,
    Duration personRetention,
    Mode mode,
    int bundleEvents,
    int personCacheSize,
    int countCachedPersons)
    implements Serializable {

  public static final int DEFAULT_BUNDLE_EVENTS = 1000;
  public static final int MAX_BREAKDOWN_SPEC = 200;
  public static final int DEFAULT_PERSON_CACHE_SIZE = 10_000;
  public static final int DEFAULT_COUNT_CACHED_PERSONS = 200_000;

  /** Longest time a contribution waits in a pre-aggregation bundle (processing time). */
  public static final long MAX_BUNDLE_DELAY_MILLIS = 200;

  /**
   * How often route tells dedup how far each split was sent (processing time): the longest an event
   * waits for its split's order to be restored, plus a shuffle (docs/scale-out.md §3a).
   */
  public static final long ORDER_MARKER_INTERVAL_MILLIS = 50;

  public PipelineSettings(
      Duration maxOutOfOrderness,
      Duration allowedLateness,
      List<String> breakdowns,
      Duration dedupRetention,
      Duration personRetention,
      Mode mode) {
    this(
        maxOutOfOrderness,
        allowedLateness,
        breakdowns,
        dedupRetention,
        personRetention,
        mode,
        DEFAULT_BUNDLE_EVENTS,
        DEFAULT_PERSON_CACHE_SIZE,
        DEFAULT_COUNT_CACHED_PERSONS);
  }

  /** What the pipeline feeds: the replay files or the streaming job's tables. */
  public enum Mode {
    REPLAY,
    STREAMING
  }

  public boolean emitPersonSnapshots() {
    return mode == Mode.REPLAY;
  }

  public boolean dailyActive() {
    return mode == Mode.STREAMING;
  }

  /** Properties kept per person in the streaming job; replay follows the contract (no cap). */
  public static final int STREAMING_MAX_PERSON_PROPERTIES = 1000;

  public int maxPersonProperties() {
    return mode == Mode.STREAMING ? STREAMING_MAX_PERSON_PROPERTIES : Integer.MAX_VALUE;
  }

  /**
   * Bytes of compact JSON (UTF-8) a person's properties may take in the streaming job. With the raw
   * record's own limit ({@code EventValidator.MAX_LINE_BYTES}) it bounds every enriched record well
   * below Kafka's default 1 MiB record limit (docs/decisions.md 30); replay has no bound.
   */
  public static final int STREAMING_MAX_PERSON_PROPERTIES_BYTES = 256 * 1024;

  public int maxPersonPropertiesBytes() {
    return mode == Mode.STREAMING ? STREAMING_MAX_PERSON_PROPERTIES_BYTES : Integer.MAX_VALUE;
  }

  public static final Duration DEFAULT_MAX_OUT_OF_ORDERNESS = Duration.ofSeconds(10);
  public static final Duration DEFAULT_ALLOWED_LATENESS = Duration.ofMinutes(5);
  public static final Duration DEFAULT_DEDUP_RETENTION = Duration.ofHours(24);

  public PipelineSettings {
    if (maxOutOfOrderness.isNegative() || allowedLateness.isNegative()) {
      throw new IllegalArgumentException("durations must not be negative");
    }
    if (bundleEvents < 1) {
      throw new IllegalArgumentException("bundle size must be at least 1 (1 = off)");
    }
    if (personCacheSize < 0) {
      throw new IllegalArgumentException("person cache size must not be negative (0 = off)");
    }
    if (countCachedPersons < 0) {
      throw new IllegalArgumentException("count cache size must not be negative (0 = off)");
    }
    for (String spec : breakdowns) {
      if (!isValidBreakdown(spec)) {
        throw new IllegalArgumentException(
            "breakdown '"
                + spec.replace("\u0000", "\\u0000")
                + "' must start with 'event:' or 'person:', be at most "
                + MAX_BREAKDOWN_SPEC
                + " characters and not contain U+0000");
      }
    }
    breakdowns = List.copyOf(new LinkedHashSet<>(breakdowns)); // a repeated spec counts once
  }

  /**
   * A spec names its source and a property, in at most {@value #MAX_BREAKDOWN_SPEC} code points (it
   * is part of a primary key) and without U+0000 (PostgreSQL text cannot hold it).
   */
  public static boolean isValidBreakdown(String spec) {
    return (spec.startsWith("event:") || spec.startsWith("person:"))
        && spec.indexOf('\u0000') < 0
        && spec.codePointCount(0, spec.length()) <= MAX_BREAKDOWN_SPEC;
  }
}
