package dev.tally.operators.validation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.avro.EnrichedEvent;
import dev.tally.avro.PersonState;
import dev.tally.operators.PipelineSettings;
import dev.tally.operators.functions.Contribution;
import dev.tally.operators.functions.ToContributions;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.flink.util.Collector;

/**
 * Properties of hostile input (SEMANTICS.md §1, §7; docs/decisions.md 30) before any store sees it:
 * validation agrees with an independent model and never throws, nothing a valid event makes can be
 * rejected by PostgreSQL (no U+0000 in text, bounded key columns, values whole), and a person grown
 * by any sequence of events keeps every enriched record within Kafka's record limit. The end-to-end
 * half, through the real sinks, is {@code HostileInputIT}.
 */
class HostileInputPropertiesTest {
  /** Kafka's default {@code max.request.size}, minus room for the record's key and headers. */
  static final int KAFKA_RECORD_BUDGET = 1_048_576 - 16 * 1024;

  @Provide
  Arbitrary<HostileEvents.Hostile> hostile() {
    return HostileEvents.events(Instant.now());
  }

  @Property(tries = 400)
  void validationAgreesWithTheModelAndNeverThrows(@ForAll("hostile") HostileEvents.Hostile h) {
    ParsedRecord r = EventValidator.parseAvro(h.avro(), "t");
    if (h.expectedReason() == null) {
      assertThat(r.valid).as(() -> "dead-lettered as " + r.deadLetter.reason).isNotNull();
      assertThat(r.valid.event).isEqualTo(h.event());
      assertThat(r.valid.distinctId).isEqualTo(h.distinctId());
    } else {
      assertThat(r.deadLetter).as("dead-lettered").isNotNull();
      assertThat(r.deadLetter.reason).isEqualTo(h.expectedReason());
    }
  }

  @Property(tries = 400)
  void everyRowOfAValidEventCanBeStoredWholeInPostgres(@ForAll("hostile") HostileEvents.Hostile h) {
    ParsedRecord r = EventValidator.parseAvro(h.avro(), "t");
    if (r.valid == null) {
      return;
    }
    List<Contribution> rows = new ArrayList<>();
    new ToContributions(List.of("event:$browser", "event:$current_url"), true)
        .flatMap(new EnrichedRecord(r.valid, "p", "{}"), collector(rows));
    assertThat(rows).hasSize(5);
    for (Contribution c : rows) {
      TallyRow row = c.row;
      for (String text :
          new String[] {row.project, row.grain, row.event, row.property, row.value}) {
        assertThat(text == null || text.indexOf('\u0000') < 0).as("no U+0000 in " + row).isTrue();
      }
      // the primary key's text columns stay far below a btree entry's ~2,700 bytes
      assertThat(
              PersonModel.utf8Length(row.project)
                  + PersonModel.utf8Length(row.event)
                  + (row.property == null ? 0 : PersonModel.utf8Length(row.property)))
          .isLessThanOrEqualTo(64 + 800 + 4 * PipelineSettings.MAX_BREAKDOWN_SPEC);
    }
    assertThat(rows.get(3).row.value).as("$browser, whole").isEqualTo(h.browser());
    assertThat(rows.get(4).row.value).as("$current_url, whole").isEqualTo(h.url());
  }

  @Property(tries = 60)
  void personsStayWithinTheirBoundSoEveryEnrichedRecordFitsKafka(
      @ForAll @Size(max = 80) List<HostileEvents.@net.jqwik.api.From("hostile") Hostile> events)
      throws Exception {
    Map<String, String> ids = new HashMap<>();
    Map<String, PersonState> persons = new HashMap<>();
    PersonModel.Store store = store(ids, persons);
    for (HostileEvents.Hostile h : events) {
      ValidEvent e = EventValidator.parseAvro(h.avro(), "t").valid;
      if (e == null) {
        continue;
      }
      PersonModel.Outcome o =
          PersonModel.apply(
              store,
              e,
              Json.parseTrustedObject(e.propertiesJson),
              PipelineSettings.STREAMING_MAX_PERSON_PROPERTIES,
              PipelineSettings.STREAMING_MAX_PERSON_PROPERTIES_BYTES);
      String props = o.person().getProperties();
      assertThat(PersonModel.utf8Length(props))
          .isLessThanOrEqualTo(PipelineSettings.STREAMING_MAX_PERSON_PROPERTIES_BYTES);
      assertThat(enrichedSize(e, o.person())).isLessThan(KAFKA_RECORD_BUDGET);
    }
  }

  @Property(tries = 200)
  void aBreakdownValueIsRenderedWholeWithEachNulAsSixCharacters(@ForAll("text") String value) {
    String rendered = ToContributions.render(value);
    assertThat(rendered.indexOf('\u0000')).isNegative();
    assertThat(rendered).isEqualTo(value.replace("\u0000", "\\u0000"));
  }

  @Provide
  Arbitrary<String> text() {
    return HostileEvents.text(20, 5000);
  }

  /** The largest enriched record a person can produce: its Avro value as the Kafka sink writes. */
  private static int enrichedSize(ValidEvent e, PersonState person) throws Exception {
    EnrichedEvent enriched =
        EnrichedEvent.newBuilder()
            .setUuid(e.uuid)
            .setProject(e.project)
            .setEvent(e.event)
            .setDistinctId(e.distinctId)
            .setTimestamp(e.timestamp)
            .setProperties(e.propertiesJson)
            .setPersonId(person.getPersonId())
            .setPersonProperties(person.getProperties())
            .setGeneration("g12345678901234567890")
            .build();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder enc = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<>(EnrichedEvent.class).write(enriched, enc);
    enc.flush();
    return out.size();
  }

  private static <T> Collector<T> collector(List<T> into) {
    return new Collector<>() {
      @Override
      public void collect(T record) {
        into.add(record);
      }

      @Override
      public void close() {}
    };
  }

  private static PersonModel.Store store(
      Map<String, String> ids, Map<String, PersonState> persons) {
    return new PersonModel.Store() {
      public String personIdOf(String d) {
        return ids.get(d);
      }

      public PersonState get(String p) {
        PersonState stored = persons.get(p);
        return stored == null ? null : PersonState.newBuilder(stored).build();
      }

      public void put(PersonState p) {
        persons.put(p.getPersonId(), PersonState.newBuilder(p).build());
      }

      public void remove(String p) {
        persons.remove(p);
      }

      public void link(String d, String p) {
        ids.put(d, p);
      }
    };
  }
}
