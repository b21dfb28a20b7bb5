package dev.tally.operators.persons;

import dev.tally.avro.PersonState;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link PersonModel.Store} over two maps that copies on get and put, as keyed state's
 * serializers do (a change that is not put is lost): the persons a link rule sees at one node of
 * the person protocol, and the sequential model in tests.
 */
public final class MapStore implements PersonModel.Store {
  private final Map<String, PersonState> persons;
  private final Map<String, String> links;

  public MapStore() {
    this(new HashMap<>(), new HashMap<>());
  }

  /** Over the caller's maps (e.g. sorted ones, to compare states). */
  public MapStore(Map<String, PersonState> persons, Map<String, String> links) {
    this.persons = persons;
    this.links = links;
  }

  public static PersonState copy(PersonState p) {
    return p == null ? null : PersonState.newBuilder(p).build();
  }

  /** Adds a person as it is (a copy). */
  public MapStore with(PersonState p) {
    persons.put(p.getPersonId(), copy(p));
    return this;
  }

  public Map<String, PersonState> persons() {
    return persons;
  }

  public Map<String, String> links() {
    return links;
  }

  @Override
  public String personIdOf(String distinctId) {
    return links.get(distinctId);
  }

  @Override
  public PersonState get(String personId) {
    return copy(persons.get(personId));
  }

  @Override
  public void put(PersonState p) {
    persons.put(p.getPersonId(), copy(p));
  }

  @Override
  public void remove(String personId) {
    persons.remove(personId);
  }

  @Override
  public void link(String distinctId, String personId) {
    links.put(distinctId, personId);
  }
}
