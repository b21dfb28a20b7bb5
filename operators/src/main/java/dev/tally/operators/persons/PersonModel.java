package dev.tally.operators.persons;

import dev.tally.avro.PersonState;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.ValidEvent;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The person rules of SEMANTICS.md §4 over an abstract store of one project's persons: creation,
 * {@code $identify}/{@code $create_alias} links and merges, then the event's {@code $set_once},
 * {@code $set} and {@code $unset}. Deterministic; the caller applies events in processing order.
 */
public final class PersonModel {

  /** One project's persons: distinct_id → person_id, person_id → state. */
  public interface Store {
    String personIdOf(String distinctId) throws Exception;

    PersonState get(String personId) throws Exception;

    void put(PersonState person) throws Exception;

    void remove(String personId) throws Exception;

    void link(String distinctId, String personId) throws Exception;
  }

  /**
   * What one event did to persons.
   *
   * @param person the event's person (U's) after the event
   * @param mergedAway the person merged into {@code person} by this event, or null
   * @param mergeRefused true when a merge of an already identified person was refused
   */
  public record Outcome(
      PersonState person,
      PersonState mergedAway,
      boolean mergeRefused,
      boolean propertiesCapped,
      boolean personWritten) {}

  /** No cap: the contract's semantics (replay). */
  public static final int UNLIMITED = Integer.MAX_VALUE;

  private PersonModel() {}

  public static Outcome apply(Store store, ValidEvent e, Map<String, Object> props)
      throws Exception {
    return apply(store, e, props, UNLIMITED);
  }

  /**
   * As {@link #apply(Store, ValidEvent, Map)}, with person state bounded: a person keeps at most
   * {@code maxProperties} properties; keys an update would add beyond that are dropped and the
   * outcome says so (a warning in metrics, never a crash). Existing keys are still updated.
   */
  public static Outcome apply(
      Store store, ValidEvent e, Map<String, Object> props, int maxProperties) throws Exception {
    return apply(store, e, props, maxProperties, UNLIMITED);
  }

  /**
   * As {@link #apply(Store, ValidEvent, Map, int)}, with the person's properties also bounded in
   * size: at most {@code maxBytes} bytes of compact JSON (UTF-8). That bound is what keeps every
   * enriched record within the Kafka producer's record limit (docs/decisions.md 30). Keys an update
   * would add are dropped newest first until the person fits; if it still does not fit (existing
   * keys grown), the update's {@code $set_once}/{@code $set} are not applied at all and only its
   * {@code $unset} is. A merge keeps all of U's properties and drops A's keys that U lacks, newest
   * first, until the person fits. Either way the outcome says it was capped.
   */
  public static Outcome apply(
      Store store, ValidEvent e, Map<String, Object> props, int maxProperties, int maxBytes)
      throws Exception {
    String u = e.distinctId;
    String a = linkedDistinctId(e.event, props);
    if (a != null && a.equals(u)) {
      a = null; // linking an id to itself is an ordinary event
    }
    PersonState mergedAway = null;
    boolean refused = false;
    boolean[] capped = {false};
    boolean changed = true; // only an existing person that this event leaves as it is is not
    PersonState person;
    if (a == null) {
      String pid = store.personIdOf(u);
      if (pid == null) {
        person = create(store, e, u);
      } else {
        person = store.get(pid);
        changed = false;
      }
    } else {
      String pu = store.personIdOf(u);
      String pa = store.personIdOf(a);
      if (pu == null && pa == null) {
        person = create(store, e, u);
        join(store, person, a);
      } else if (pu == null) {
        person = store.get(pa);
        join(store, person, u);
      } else if (pa == null) {
        person = store.get(pu);
        join(store, person, a);
      } else if (pu.equals(pa)) {
        person = store.get(pu);
        changed = false;
      } else {
        person = store.get(pu);
        PersonState other = store.get(pa);
        if (other.getIsIdentified()) {
          refused = true;
          changed = false;
        } else {
          if (merge(store, person, other, maxBytes)) {
            capped[0] = true;
          }
          mergedAway = other;
        }
      }
      if ("$identify".equals(e.event) && !person.getIsIdentified()) {
        person.setIsIdentified(true);
        changed = true;
      }
    }
    String properties =
        applyUpdates(person.getProperties(), props, maxProperties, maxBytes, capped);
    if (!properties.equals(person.getProperties())) {
      person.setProperties(properties);
      changed = true;
    }
    // Most events change nothing about their person: skipping the write saves a state write and
    // its serialization per event (docs/performance.md).
    if (changed) {
      store.put(person);
    }
    return new Outcome(person, mergedAway, refused, capped[0], changed);
  }

  /**
   * The distinct_id A that this event links to its own (SEMANTICS.md §4), or null when it is an
   * ordinary event (no A, or A = U).
   */
  public static String linkTarget(ValidEvent e, Map<String, Object> props) {
    String a = linkedDistinctId(e.event, props);
    return a == null || a.equals(e.distinctId) ? null : a;
  }

  /** A of §4: {@code $anon_distinct_id} of an {@code $identify}, {@code alias} of an alias. */
  private static String linkedDistinctId(String event, Map<String, Object> props) {
    if ("$identify".equals(event)) {
      return (String) props.get("$anon_distinct_id");
    }
    if ("$create_alias".equals(event)) {
      return (String) props.get("alias");
    }
    return null;
  }

  private static PersonState create(Store store, ValidEvent e, String distinctId) throws Exception {
    PersonState p =
        PersonState.newBuilder()
            .setPersonId(PersonIds.personId(e.project, distinctId))
            .setProperties("{}")
            .setDistinctIds(new ArrayList<>(List.of(distinctId)))
            .setIsIdentified(false)
            .setCreatedAt(e.timestampMillis)
            .build();
    store.link(distinctId, p.getPersonId());
    return p;
  }

  private static void join(Store store, PersonState person, String distinctId) throws Exception {
    person.getDistinctIds().add(distinctId);
    store.link(distinctId, person.getPersonId());
  }

  /** Merges {@code from} into {@code into}: {@code into} keeps id, status and created_at. */
  private static boolean merge(Store store, PersonState into, PersonState from, int maxBytes)
      throws Exception {
    Map<String, Object> own = Json.parseTrustedObject(into.getProperties());
    Map<String, Object> props = Json.parseTrustedObject(from.getProperties());
    props.putAll(own); // U wins on conflict
    String merged = Json.write(props);
    boolean capped = false;
    if (maxBytes != UNLIMITED && utf8Length(merged) > maxBytes) {
      List<String> keys = new ArrayList<>(props.keySet());
      for (int i = keys.size() - 1; i >= 0 && utf8Length(merged) > maxBytes; i--) {
        if (!own.containsKey(keys.get(i))) {
          props.remove(keys.get(i));
          merged = Json.write(props);
        }
      }
      capped = true;
    }
    into.setProperties(merged);
    for (String id : from.getDistinctIds()) {
      into.getDistinctIds().add(id);
      store.link(id, into.getPersonId());
    }
    store.remove(from.getPersonId());
    return capped;
  }

  /** {@code $set_once} (absent keys only), then {@code $set}, then {@code $unset}. */
  @SuppressWarnings("unchecked")
  static String applyUpdates(
      String personPropertiesJson,
      Map<String, Object> props,
      int maxProperties,
      int maxBytes,
      boolean[] capped) {
    Object setOnce = props.get("$set_once");
    Object set = props.get("$set");
    Object unset = props.get("$unset");
    if (setOnce == null && set == null && unset == null) {
      return personPropertiesJson;
    }
    Map<String, Object> p = new LinkedHashMap<>(Json.parseTrustedObject(personPropertiesJson));
    if (setOnce instanceof Map<?, ?> m) {
      ((Map<String, Object>) m)
          .forEach(p::putIfAbsent); // JSON null is Json.NULL, so it counts as present
    }
    if (set instanceof Map<?, ?> m) {
      p.putAll((Map<String, Object>) m);
    }
    if (unset instanceof List<?> keys) {
      keys.forEach(p::remove);
    }
    if (p.size() > maxProperties) {
      // drop the newest keys (insertion order), never ones the person already had
      List<String> keys = new java.util.ArrayList<>(p.keySet());
      for (int i = keys.size() - 1; i >= 0 && p.size() > maxProperties; i--) {
        p.remove(keys.get(i));
      }
      capped[0] = true;
    }
    String written = Json.write(p);
    if (maxBytes != UNLIMITED && utf8Length(written) > maxBytes) {
      capped[0] = true;
      Map<String, Object> before = Json.parseTrustedObject(personPropertiesJson);
      List<String> keys = new ArrayList<>(p.keySet());
      for (int i = keys.size() - 1; i >= 0 && utf8Length(written) > maxBytes; i--) {
        if (!before.containsKey(keys.get(i))) {
          p.remove(keys.get(i));
          written = Json.write(p);
        }
      }
      if (utf8Length(written) > maxBytes) {
        // existing keys grew past the bound: keep them as they were, apply only the removals
        Map<String, Object> unsetOnly = new LinkedHashMap<>(before);
        if (unset instanceof List<?> removed) {
          removed.forEach(unsetOnly::remove);
        }
        written = Json.write(unsetOnly);
      }
    }
    return written;
  }

  /** Bytes of {@code s} in UTF-8, without encoding it (a lone surrogate counts as one '?'). */
  public static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        n += 1;
      } else {
        n += 3;
      }
    }
    return n;
  }
}
