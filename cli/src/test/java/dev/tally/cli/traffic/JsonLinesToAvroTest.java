package dev.tally.cli.traffic;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.validation.EventValidator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code ./tally produce} never changes a verdict: every line of the golden scenarios that it sends
 * as Avro is judged by the job's validator exactly as replay judges the line (same reason, or the
 * same valid fields); every other line reaches the job as its own bytes and is dead-lettered.
 */
class JsonLinesToAvroTest {

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "late", "invalid", "identify", "unicode"})
  void shouldGiveTheJobTheVerdictReplayGivesEachLine(String scenario) throws Exception {
    Path file = Path.of("src/test/resources/golden", scenario, "events.jsonl");
    List<byte[]> lines = JsonLinesToAvro.lines(Files.readAllBytes(file));
    int asAvro = 0;
    for (byte[] line : lines) {
      ParsedRecord replay = EventValidator.parseJsonLine(line, "f");
      JsonLinesToAvro.Record r = JsonLinesToAvro.convert(line);
      ParsedRecord job = EventValidator.parseAvro(r.value(), "k");
      String text = new String(line, StandardCharsets.UTF_8);
      if (r.avro()) {
        asAvro++;
        if (replay.valid != null) {
          assertThat(job.valid).as(text).isNotNull();
          assertThat(job.valid.uuid).isEqualTo(replay.valid.uuid);
          assertThat(job.valid.event).isEqualTo(replay.valid.event);
          assertThat(job.valid.distinctId).isEqualTo(replay.valid.distinctId);
          assertThat(job.valid.timestamp).isEqualTo(replay.valid.timestamp);
          assertThat(job.valid.propertiesJson).isEqualTo(replay.valid.propertiesJson);
        } else {
          assertThat(job.deadLetter).as(text).isNotNull();
          assertThat(job.deadLetter.reason).as(text).isEqualTo(replay.deadLetter.reason);
        }
      } else {
        assertThat(replay.valid).as("only invalid lines go raw: " + text).isNull();
        assertThat(job.deadLetter.reason).as(text).isIn("malformed", "oversized");
        assertThat(job.deadLetter.payload).isEqualTo(line);
      }
    }
    assertThat(asAvro).isPositive();
  }

  @Test
  void shouldSplitOnNewlinesOnlyWithoutAnEmptyLastRecord() {
    List<byte[]> lines = JsonLinesToAvro.lines("a\r\n\nb\n".getBytes(StandardCharsets.UTF_8));
    assertThat(lines)
        .extracting(b -> new String(b, StandardCharsets.UTF_8))
        .containsExactly("a\r", "", "b");
  }
}
