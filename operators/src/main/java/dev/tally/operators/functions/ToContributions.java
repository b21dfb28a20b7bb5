package dev.tally.operators.functions;

import dev.tally.operators.json.Json;
import dev.tally.operators.json.JsonNumber;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.Times;
import dev.tally.operators.model.ValidEvent;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.util.Collector;

/**
 * Fans an on-time event out to the rows it counts in (SEMANTICS.md §7): its minute and hour {@code
 * event_counts} rows and one hour {@code breakdown_counts} row per configured breakdown.
 */
public class ToContributions implements FlatMapFunction<EnrichedRecord, Contribution> {
  private final List<String> breakdowns;
  private final boolean dailyActive;

  public ToContributions(List<String> breakdowns, boolean dailyActive) {
    this.breakdowns = List.copyOf(breakdowns);
    this.dailyActive = dailyActive;
  }

  @Override
  public void flatMap(EnrichedRecord r, Collector<Contribution> out) {
    ValidEvent e = r.event;
    long minute = Times.minuteStart(e.timestampMillis);
    long hour = Times.hourStart(e.timestampMillis);
    out.collect(
        new Contribution(
            TallyRow.eventCount(e.project, TallyRow.MINUTE, minute, e.event), r.personId));
    out.collect(
        new Contribution(TallyRow.eventCount(e.project, TallyRow.HOUR, hour, e.event), r.personId));
    if (dailyActive) {
      out.collect(
          new Contribution(
              TallyRow.dailyActive(e.project, Times.dayStart(e.timestampMillis)), r.personId));
    }
    if (breakdowns.isEmpty()) {
      return;
    }
    Map<String, Object> eventProps = null;
    Map<String, Object> personProps = null;
    for (String spec : breakdowns) {
      int colon = spec.indexOf(':');
      String source = spec.substring(0, colon);
      String name = spec.substring(colon + 1);
      Object value;
      if ("event".equals(source)) {
        eventProps = eventProps != null ? eventProps : Json.parseTrustedObject(e.propertiesJson);
        value = eventProps.get(name);
      } else {
        personProps =
            personProps != null ? personProps : Json.parseTrustedObject(r.personPropertiesJson);
        value = personProps.get(name);
      }
      out.collect(
          new Contribution(
              TallyRow.breakdown(e.project, hour, e.event, spec, render(value)), r.personId));
    }
  }

  /**
   * A breakdown value as SEMANTICS.md §7 renders it: whole, never truncated; a string's U+0000 as
   * six characters backslash, u, 0, 0, 0, 0 (PostgreSQL text cannot hold U+0000; JSON renderings of
   * objects and arrays escape it already).
   */
  public static String render(Object value) {
    if (value == null || value == Json.NULL) {
      return "(none)";
    }
    if (value instanceof String s) {
      return s.indexOf('\u0000') < 0 ? s : s.replace("\u0000", "\\u0000");
    }
    if (value instanceof JsonNumber n) {
      return n.literal();
    }
    return Json.write(value);
  }
}
