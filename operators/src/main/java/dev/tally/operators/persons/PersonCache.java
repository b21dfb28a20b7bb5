package dev.tally.operators.persons;

import dev.tally.avro.PersonState;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded, write-through cache in front of one subtask's person state: the most recently used
 * links ({@code distinct_id → person_id}, including "no person yet") and persons, so an active
 * person's events do not read RocksDB twice each.
 *
 * <p>Coherent because the enrich operator is the only writer of this state and every write goes
 * through {@link #over}; it lives as long as the operator instance, so a restore or rescale starts
 * it empty. Not for state with TTL: the cache would keep returning what the state backend had
 * expired. Persons are copied in and out (as RocksDB would), so the person rules may change what
 * they read without changing the cache.
 */
public final class PersonCache {
  private static final String NO_PERSON = "\u0000no person";

  private final Map<String, String> links;
  private final Map<String, PersonState> persons;
  private long hits;
  private long lookups;

  /**
   * @param maxPersons persons kept (and four times as many links); must be positive
   */
  public PersonCache(int maxPersons) {
    if (maxPersons <= 0) {
      throw new IllegalArgumentException("maxPersons must be positive, was " + maxPersons);
    }
    this.persons = lru(maxPersons);
    this.links = lru(4 * maxPersons);
  }

  private static <V> Map<String, V> lru(int capacity) {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
        return size() > capacity;
      }
    };
  }

  /** Share of link and person lookups answered from the cache so far. */
  public double hitRate() {
    return lookups == 0 ? 0 : (double) hits / lookups;
  }

  /** {@code state} (the current project's) with this cache in front of it. */
  public PersonModel.Store over(String project, PersonModel.Store state) {
    String prefix = project + '\u0000';
    return new PersonModel.Store() {
      @Override
      public String personIdOf(String distinctId) throws Exception {
        String key = prefix + distinctId;
        String cached = links.get(key);
        lookups++;
        if (cached != null) {
          hits++;
          return cached == NO_PERSON ? null : cached;
        }
        String personId = state.personIdOf(distinctId);
        links.put(key, personId == null ? NO_PERSON : personId);
        return personId;
      }

      @Override
      public PersonState get(String personId) throws Exception {
        String key = prefix + personId;
        PersonState cached = persons.get(key);
        lookups++;
        if (cached != null) {
          hits++;
          return copy(cached);
        }
        PersonState person = state.get(personId);
        if (person != null) {
          persons.put(key, copy(person));
        }
        return person;
      }

      @Override
      public void put(PersonState person) throws Exception {
        state.put(person);
        persons.put(prefix + person.getPersonId(), copy(person));
      }

      @Override
      public void remove(String personId) throws Exception {
        state.remove(personId);
        persons.remove(prefix + personId);
      }

      @Override
      public void link(String distinctId, String personId) throws Exception {
        state.link(distinctId, personId);
        links.put(prefix + distinctId, personId);
      }
    };
  }

  private static PersonState copy(PersonState person) {
    return PersonState.newBuilder(person).build();
  }
}
