package dev.tally.capture;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** What the door accepted and refused, in Prometheus text at {@code /_metrics}. */
public final class CaptureMetrics {
  private final LongAdder acceptedEvents = new LongAdder();
  private final LongAdder acceptedRequests = new LongAdder();
  private final LongAdder unknownTokens = new LongAdder();
  private final Map<Integer, LongAdder> refused = new ConcurrentHashMap<>();

  void accepted(int events) {
    acceptedRequests.increment();
    acceptedEvents.add(events);
  }

  void unknownToken() {
    unknownTokens.increment();
  }

  void refused(int status) {
    refused.computeIfAbsent(status, s -> new LongAdder()).increment();
  }

  public long acceptedEvents() {
    return acceptedEvents.sum();
  }

  public long refusedRequests(int status) {
    LongAdder a = refused.get(status);
    return a == null ? 0 : a.sum();
  }

  public long unknownTokens() {
    return unknownTokens.sum();
  }

  String prometheus() {
    StringBuilder sb = new StringBuilder();
    sb.append(
        "# HELP tally_capture_events_accepted_total Events acknowledged by Kafka and answered 200.\n");
    sb.append("# TYPE tally_capture_events_accepted_total counter\n");
    sb.append("tally_capture_events_accepted_total ").append(acceptedEvents.sum()).append('\n');
    sb.append("# TYPE tally_capture_requests_accepted_total counter\n");
    sb.append("tally_capture_requests_accepted_total ").append(acceptedRequests.sum()).append('\n');
    sb.append("# HELP tally_capture_unknown_token_total Requests refused 401 for their token.\n");
    sb.append("# TYPE tally_capture_unknown_token_total counter\n");
    sb.append("tally_capture_unknown_token_total ").append(unknownTokens.sum()).append('\n');
    sb.append(
        "# HELP tally_capture_requests_refused_total Requests answered other than 200, by status.\n");
    sb.append("# TYPE tally_capture_requests_refused_total counter\n");
    new TreeMap<>(refused)
        .forEach(
            (status, n) ->
                sb.append("tally_capture_requests_refused_total{status=\"")
                    .append(status)
                    .append("\"} ")
                    .append(n.sum())
                    .append('\n'));
    return sb.toString();
  }
}
