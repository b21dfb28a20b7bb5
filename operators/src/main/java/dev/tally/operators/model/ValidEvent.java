package dev.tally.operators.model;

import java.util.Objects;

/**
 * An event that passed validation (SEMANTICS.md §1). Flink POJO: public fields, no-arg constructor.
 * {@code uuid} and {@code timestamp} are kept verbatim; {@code propertiesJson} is the compact JSON
 * of the properties object ({@code {}} when absent).
 */
public class ValidEvent {
  public String uuid;
  public String project;
  public String event;
  public String distinctId;

  /** RFC 3339 text exactly as received. */
  public String timestamp;

  /** The instant of {@link #timestamp}, truncated to milliseconds. */
  public long timestampMillis;

  public String propertiesJson;

  /** Whether the input had a properties field (late output reproduces the original). */
  public boolean propertiesPresent;

  /**
   * Unknown top-level fields as a compact JSON object, or null; only the late output keeps them.
   */
  public String unknownFieldsJson;

  public ValidEvent() {}

  /** The event as it was received, unknown fields included (late output, processing errors). */
  public String toOriginalJson() {
    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("uuid", uuid);
    m.put("project", project);
    m.put("event", event);
    m.put("distinct_id", distinctId);
    m.put("timestamp", timestamp);
    if (propertiesPresent) {
      m.put("properties", dev.tally.operators.json.Json.parseTrustedObject(propertiesJson));
    }
    if (unknownFieldsJson != null) {
      dev.tally.operators.json.Json.parseTrustedObject(unknownFieldsJson).forEach(m::putIfAbsent);
    }
    return dev.tally.operators.json.Json.write(m);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ValidEvent v
        && timestampMillis == v.timestampMillis
        && propertiesPresent == v.propertiesPresent
        && Objects.equals(uuid, v.uuid)
        && Objects.equals(project, v.project)
        && Objects.equals(event, v.event)
        && Objects.equals(distinctId, v.distinctId)
        && Objects.equals(timestamp, v.timestamp)
        && Objects.equals(propertiesJson, v.propertiesJson)
        && Objects.equals(unknownFieldsJson, v.unknownFieldsJson);
  }

  @Override
  public int hashCode() {
    return Objects.hash(uuid, project, timestamp);
  }

  @Override
  public String toString() {
    return "ValidEvent{"
        + project
        + "/"
        + uuid
        + " "
        + event
        + " "
        + distinctId
        + " "
        + timestamp
        + "}";
  }
}
