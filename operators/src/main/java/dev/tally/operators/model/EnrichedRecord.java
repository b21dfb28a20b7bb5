package dev.tally.operators.model;

import dev.tally.operators.json.Json;
import java.util.Objects;

/** A valid, non-duplicate event with its person attached (SEMANTICS.md §5). */
public class EnrichedRecord {
  public ValidEvent event;
  public String personId;

  /** The person's properties after this event's updates, compact JSON. */
  public String personPropertiesJson;

  public EnrichedRecord() {}

  public EnrichedRecord(ValidEvent event, String personId, String personPropertiesJson) {
    this.event = event;
    this.personId = personId;
    this.personPropertiesJson = personPropertiesJson;
  }

  /** The enriched JSON line: the six input fields plus person_id and person_properties. */
  public String toJson() {
    StringBuilder sb = new StringBuilder(256);
    sb.append("{\"uuid\":");
    Json.writeString(event.uuid, sb);
    sb.append(",\"project\":");
    Json.writeString(event.project, sb);
    sb.append(",\"event\":");
    Json.writeString(event.event, sb);
    sb.append(",\"distinct_id\":");
    Json.writeString(event.distinctId, sb);
    sb.append(",\"timestamp\":");
    Json.writeString(event.timestamp, sb);
    sb.append(",\"properties\":").append(event.propertiesJson);
    sb.append(",\"person_id\":");
    Json.writeString(personId, sb);
    sb.append(",\"person_properties\":").append(personPropertiesJson).append('}');
    return sb.toString();
  }

  /** The event as it was received (unknown fields included): the late output's line. */
  public String toOriginalJson() {
    return event.toOriginalJson();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof EnrichedRecord e
        && Objects.equals(event, e.event)
        && Objects.equals(personId, e.personId)
        && Objects.equals(personPropertiesJson, e.personPropertiesJson);
  }

  @Override
  public int hashCode() {
    return Objects.hash(event, personId);
  }

  @Override
  public String toString() {
    return "Enriched{" + event + " person=" + personId + "}";
  }
}
