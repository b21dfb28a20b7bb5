package dev.tally.operators.functions;

import static dev.tally.operators.functions.HarnessFixtures.event;
import static dev.tally.operators.functions.HarnessFixtures.uuid;
import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonIds;
import dev.tally.operators.persons.PersonModel;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

class EnrichWithPersonTest {

  /** Fails on one distinct_id, as a bug in the person rules would. */
  static final class FailingOnBoom extends EnrichWithPerson {
    FailingOnBoom() {
      super(true, PersonModel.UNLIMITED, null);
    }

    @Override
    protected PersonModel.Outcome resolve(ValidEvent event) throws Exception {
      if ("boom".equals(event.distinctId)) {
        throw new IllegalStateException("bug");
      }
      return super.resolve(event);
    }
  }

  private static KeyedOneInputStreamOperatorTestHarness<String, ValidEvent, EnrichedRecord> harness(
      EnrichWithPerson f) throws Exception {
    var h =
        new KeyedOneInputStreamOperatorTestHarness<>(
            new KeyedProcessOperator<>(f), (ValidEvent e) -> e.project, Types.STRING);
    h.open();
    return h;
  }

  @Test
  void shouldAttachThePersonAndItsPropertiesAfterTheUpdates() throws Exception {
    try (var h = harness(new EnrichWithPerson(true, PersonModel.UNLIMITED, null))) {
      h.processElement(
          event(uuid(1), "u", "2026-11-23T10:00:00Z", "{\"$set\":{\"plan\":\"pro\"}}"), 1);
      EnrichedRecord r = h.extractOutputValues().get(0);
      assertThat(r.personId).isEqualTo(PersonIds.personId("acme", "u"));
      assertThat(r.personPropertiesJson).isEqualTo("{\"plan\":\"pro\"}");
      assertThat(h.getSideOutput(Tags.PERSONS)).hasSize(1);
      assertThat(h.numKeyedStateEntries()).as("one distinct id, one person").isEqualTo(2);
    }
  }

  @Test
  void shouldKeepAnActivePersonAndItsLinkAliveUnderRetention() throws Exception {
    long hour = 3_600_000L;
    try (var h =
        harness(new EnrichWithPerson(true, PersonModel.UNLIMITED, java.time.Duration.ofHours(1)))) {
      h.setStateTtlProcessingTime(0);
      h.processElement(
          event(uuid(1), "u", "2026-11-23T10:00:00Z", "{\"$set\":{\"plan\":\"pro\"}}"), 1);
      // events that change nothing, each within the retention of the one before
      for (int i = 1; i <= 3; i++) {
        h.setStateTtlProcessingTime(i * 40 * 60_000L);
        h.processElement(event(uuid(1 + i), "u", "2026-11-23T10:00:0" + i + "Z", "{}"), 1 + i);
      }
      assertThat(h.extractOutputValues())
          .as("2 h after the person was created and its link written, it is still the same person")
          .extracting(r -> r.personPropertiesJson)
          .containsOnly("{\"plan\":\"pro\"}");
      // no event for longer than the retention: forgotten
      h.setStateTtlProcessingTime(2 * hour + hour + 1);
      h.processElement(event(uuid(9), "u", "2026-11-23T10:00:09Z", "{}"), 9);
      var outputs = h.extractOutputValues();
      assertThat(outputs.get(outputs.size() - 1).personPropertiesJson).isEqualTo("{}");
    }
  }

  @Test
  void shouldDeadLetterAnEventWhoseProcessingThrowsAndKeepGoing() throws Exception {
    try (var h = harness(new FailingOnBoom())) {
      h.processElement(event(uuid(1), "boom", "2026-11-23T10:00:00Z", "{}"), 1);
      h.processElement(event(uuid(2), "fine", "2026-11-23T10:00:01Z", "{}"), 2);

      assertThat(h.extractOutputValues())
          .extracting(r -> r.event.distinctId)
          .containsExactly("fine");
      var dead = h.getSideOutput(Tags.DEAD_LETTERS).peek().getValue();
      assertThat(dead.reason).isEqualTo("processing_error:IllegalStateException");
      assertThat(new String(dead.payload, StandardCharsets.UTF_8))
          .contains("\"distinct_id\":\"boom\"");
      var ledger = h.getSideOutput(Tags.LEDGER).peek().getValue();
      assertThat(ledger.deadLettered).isEqualTo(1);
      assertThat(ledger.project).isEqualTo("acme");
    }
  }
}
