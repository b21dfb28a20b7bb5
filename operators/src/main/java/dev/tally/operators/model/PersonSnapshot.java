package dev.tally.operators.model;

import dev.tally.operators.json.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * A person's state after a change, or its removal after a merge; the replay's persons.jsonl is the
 * last snapshot of each person (SEMANTICS.md §10).
 */
public class PersonSnapshot {
  public String project;
  public String personId;
  public List<String> distinctIds = new ArrayList<>();
  public String propertiesJson;
  public boolean identified;

  /** True when the person was merged into another and no longer exists. */
  public boolean removed;

  public PersonSnapshot() {}

  public String toJson() {
    List<String> ids = new ArrayList<>(distinctIds);
    ids.sort(Utf8Order.COMPARATOR);
    StringBuilder sb = new StringBuilder(128);
    sb.append("{\"project\":");
    Json.writeString(project, sb);
    sb.append(",\"person_id\":");
    Json.writeString(personId, sb);
    sb.append(",\"distinct_ids\":");
    Json.write(ids, sb);
    sb.append(",\"properties\":").append(propertiesJson);
    sb.append(",\"is_identified\":").append(identified).append('}');
    return sb.toString();
  }
}
