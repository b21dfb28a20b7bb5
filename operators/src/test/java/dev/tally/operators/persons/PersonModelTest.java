package dev.tally.operators.persons;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.PersonState;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.validation.EventValidator;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PersonModelTest {
  private final Map<String, String> ids = new HashMap<>();
  private final Map<String, PersonState> persons = new HashMap<>();
  private int n;
  private int puts;

  /** Copies on get and put, as RocksDB's serializers do: a change that is not put is lost. */
  private final PersonModel.Store store =
      new PersonModel.Store() {
        public String personIdOf(String d) {
          return ids.get(d);
        }

        public PersonState get(String p) {
          PersonState stored = persons.get(p);
          return stored == null ? null : PersonState.newBuilder(stored).build();
        }

        public void put(PersonState p) {
          puts++;
          persons.put(p.getPersonId(), PersonState.newBuilder(p).build());
        }

        public void remove(String p) {
          persons.remove(p);
        }

        public void link(String d, String p) {
          ids.put(d, p);
        }
      };

  private PersonModel.Outcome apply(String event, String distinctId, String props)
      throws Exception {
    String line =
        String.format(
            "{\"uuid\":\"00000000-0000-4000-8000-%012d\",\"project\":\"acme\",\"event\":\"%s\",\"distinct_id\":\"%s\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"properties\":%s}",
            ++n, event, distinctId, props);
    ValidEvent e = EventValidator.parseJsonLine(line.getBytes(StandardCharsets.UTF_8), "t").valid;
    return PersonModel.apply(store, e, Json.parseTrustedObject(e.propertiesJson));
  }

  @Test
  void shouldWriteThePersonOnlyWhenTheEventChangedIt() throws Exception {
    assertThat(apply("$pageview", "u", "{}").personWritten()).as("created").isTrue();
    assertThat(apply("$pageview", "u", "{}").personWritten()).as("nothing changed").isFalse();
    assertThat(apply("$pageview", "u", "{\"$set\":{\"plan\":\"pro\"}}").personWritten()).isTrue();
    assertThat(apply("$pageview", "u", "{\"$set\":{\"plan\":\"pro\"}}").personWritten())
        .as("the same value again")
        .isFalse();
    assertThat(apply("$identify", "u", "{\"$anon_distinct_id\":\"anon\"}").personWritten())
        .as("identified, anon joined")
        .isTrue();
    assertThat(apply("$identify", "u", "{\"$anon_distinct_id\":\"anon\"}").personWritten())
        .as("already identified and linked")
        .isFalse();
    assertThat(puts).isEqualTo(3);
    PersonState u = store.get(ids.get("u"));
    assertThat(u.getProperties()).isEqualTo("{\"plan\":\"pro\"}");
    assertThat(u.getIsIdentified()).isTrue();
    assertThat(u.getDistinctIds()).containsExactly("u", "anon");
  }

  @Test
  void shouldDeriveUuidV5PersonIds() {
    // Same value as the golden fixtures (acme/user-1).
    assertThat(PersonIds.personId("acme", "user-1"))
        .isEqualTo("6627c1d2-7efb-55fd-ab17-8c8ae43c2508");
  }

  @Test
  void shouldApplySetOnceThenSetThenUnset() throws Exception {
    apply("e", "u", "{\"$set_once\":{\"a\":null}}");
    var p =
        apply(
                "e",
                "u",
                "{\"$set_once\":{\"a\":1,\"b\":2},\"$set\":{\"b\":3,\"c\":4},\"$unset\":[\"c\",\"zzz\"]}")
            .person();
    assertThat(p.getProperties()).isEqualTo("{\"a\":null,\"b\":3}");
  }

  @Test
  void shouldMergeAnUnidentifiedAnonymousPersonIntoTheIdentifiedOne() throws Exception {
    apply("e", "anon", "{\"$set\":{\"plan\":\"free\",\"x\":1}}");
    apply("e", "user", "{\"$set\":{\"plan\":\"pro\"}}");
    var o = apply("$identify", "user", "{\"$anon_distinct_id\":\"anon\"}");

    assertThat(o.mergedAway().getPersonId()).isEqualTo(PersonIds.personId("acme", "anon"));
    assertThat(o.person().getPersonId()).isEqualTo(PersonIds.personId("acme", "user"));
    assertThat(o.person().getIsIdentified()).isTrue();
    assertThat(Json.parseTrustedObject(o.person().getProperties()))
        .containsEntry("plan", "pro")
        .containsKey("x");
    assertThat(ids.get("anon")).isEqualTo(o.person().getPersonId());
    assertThat(persons).hasSize(1);
  }

  @Test
  void shouldRefuseToMergeAnIdentifiedPersonButStillMarkUIdentified() throws Exception {
    apply("$identify", "a", "{\"$anon_distinct_id\":\"a-anon\"}");
    apply("e", "u", "{}");
    var o = apply("$identify", "u", "{\"$anon_distinct_id\":\"a\"}");
    assertThat(o.mergeRefused()).isTrue();
    assertThat(o.person().getIsIdentified()).isTrue();
    assertThat(persons).hasSize(2);
  }

  @Test
  void shouldCapPropertiesWithAWarningInsteadOfGrowingWithoutLimit() throws Exception {
    var first = apply("e", "u", "{\"$set\":{\"a\":1,\"b\":2}}");
    assertThat(first.propertiesCapped()).isFalse();
    String line =
        "{\"uuid\":\"00000000-0000-4000-8000-999999999999\",\"project\":\"acme\",\"event\":\"e\",\"distinct_id\":\"u\","
            + "\"timestamp\":\"2026-11-23T10:00:00Z\",\"properties\":{\"$set\":{\"b\":3,\"c\":4,\"d\":5}}}";
    ValidEvent e = EventValidator.parseJsonLine(line.getBytes(StandardCharsets.UTF_8), "t").valid;
    var capped = PersonModel.apply(store, e, Json.parseTrustedObject(e.propertiesJson), 3);

    assertThat(capped.propertiesCapped()).isTrue();
    assertThat(capped.person().getProperties()).isEqualTo("{\"a\":1,\"b\":3,\"c\":4}");
  }

  @Test
  void shouldCreateUsPersonAndLetAJoinWhenNeitherIsKnown() throws Exception {
    var o = apply("$identify", "u", "{\"$anon_distinct_id\":\"a\",\"$set\":{\"x\":1}}");
    assertThat(o.person().getPersonId()).isEqualTo(PersonIds.personId("acme", "u"));
    assertThat(ids)
        .containsEntry("a", o.person().getPersonId())
        .containsEntry("u", o.person().getPersonId());
    assertThat(o.person().getIsIdentified()).isTrue();
    assertThat(o.person().getProperties())
        .isEqualTo("{\"x\":1}"); // the event's own $set after the link
  }

  @Test
  void shouldLetUJoinAsPersonWhenOnlyAIsKnown() throws Exception {
    apply("e", "a", "{}");
    var o = apply("$identify", "u", "{\"$anon_distinct_id\":\"a\"}");
    assertThat(o.person().getPersonId()).isEqualTo(PersonIds.personId("acme", "a"));
    assertThat(ids.get("u")).isEqualTo(PersonIds.personId("acme", "a"));
    assertThat(o.mergedAway()).isNull();
  }

  @Test
  void shouldLetAJoinUsPersonWhenOnlyUIsKnown() throws Exception {
    apply("e", "u", "{}");
    var o = apply("$create_alias", "u", "{\"alias\":\"a\"}");
    assertThat(ids.get("a")).isEqualTo(PersonIds.personId("acme", "u"));
    assertThat(o.person().getIsIdentified()).isFalse();
  }

  @Test
  void shouldOnlyMarkIdentifiedWhenBothAreAlreadyTheSamePerson() throws Exception {
    apply("$create_alias", "u", "{\"alias\":\"a\"}");
    var o = apply("$identify", "u", "{\"$anon_distinct_id\":\"a\"}");
    assertThat(o.mergedAway()).isNull();
    assertThat(o.mergeRefused()).isFalse();
    assertThat(o.person().getIsIdentified()).isTrue();
    assertThat(persons).hasSize(1);
  }

  @Test
  void shouldTreatAnIdentifyOfItselfAsAnOrdinaryEvent() throws Exception {
    var o = apply("$identify", "u", "{\"$anon_distinct_id\":\"u\"}");
    assertThat(o.person().getIsIdentified()).isFalse();
  }

  @Test
  void shouldNeverMarkIdentifiedOnCreateAlias() throws Exception {
    var o = apply("$create_alias", "u", "{\"alias\":\"a\"}");
    assertThat(o.person().getIsIdentified()).isFalse();
    assertThat(o.person().getDistinctIds()).containsExactly("u", "a");
  }

  private PersonModel.Outcome applyBounded(String event, String distinctId, String props, int bytes)
      throws Exception {
    String line =
        String.format(
            "{\"uuid\":\"00000000-0000-4000-8000-%012d\",\"project\":\"acme\",\"event\":\"%s\",\"distinct_id\":\"%s\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"properties\":%s}",
            ++n, event, distinctId, props);
    ValidEvent e = EventValidator.parseJsonLine(line.getBytes(StandardCharsets.UTF_8), "t").valid;
    return PersonModel.apply(
        store, e, Json.parseTrustedObject(e.propertiesJson), PersonModel.UNLIMITED, bytes);
  }

  @Test
  void shouldKeepAPersonWithinItsByteBoundDroppingOnlyWhatWouldNotFit() throws Exception {
    String big = "x".repeat(40);
    assertThat(applyBounded("e", "u", "{\"$set\":{\"a\":\"" + big + "\"}}", 100).propertiesCapped())
        .isFalse();
    // b fits (a and b: 95 bytes), c would not: c is dropped, b kept, a kept
    var o = applyBounded("e", "u", "{\"$set\":{\"b\":\"" + big + "\",\"c\":\"" + big + "\"}}", 100);
    assertThat(o.propertiesCapped()).isTrue();
    assertThat(o.person().getProperties())
        .isEqualTo("{\"a\":\"" + big + "\",\"b\":\"" + big + "\"}");
    // an existing key grown past the bound: the $set is not applied, the $unset is
    var grown =
        applyBounded(
            "e", "u", "{\"$set\":{\"a\":\"" + big + big + big + "\"},\"$unset\":[\"b\"]}", 100);
    assertThat(grown.propertiesCapped()).isTrue();
    assertThat(grown.person().getProperties()).isEqualTo("{\"a\":\"" + big + "\"}");
  }

  @Test
  void shouldKeepAllOfUsPropertiesAndDropAsExtraKeysWhenAMergeWouldNotFit() throws Exception {
    String big = "y".repeat(40);
    applyBounded("e", "a", "{\"$set\":{\"k\":\"" + big + "\",\"shared\":1}}", 100);
    applyBounded("e", "u", "{\"$set\":{\"own\":\"" + big + "\",\"shared\":2}}", 100);
    var o = applyBounded("$identify", "u", "{\"$anon_distinct_id\":\"a\"}", 100);
    assertThat(o.mergedAway()).isNotNull();
    assertThat(o.propertiesCapped()).isTrue();
    assertThat(o.person().getProperties()).isEqualTo("{\"shared\":2,\"own\":\"" + big + "\"}");
    assertThat(ids.get("a")).isEqualTo(o.person().getPersonId());
  }
}
