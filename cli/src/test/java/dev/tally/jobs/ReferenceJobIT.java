package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.jobs.reference.ReferenceJob;
import dev.tally.operators.model.ValidEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;

/**
 * The bench's reference job does what it stands for: over a real broker at parallelism 2 it reads
 * the backlog to its end and finishes, and emits each valid uuid exactly once (duplicates and
 * invalid records dropped) — so {@code pipeline / reference} compares with a job that really
 * deduplicates, not one that discards everything.
 */
class ReferenceJobIT extends EndToEndTest {
  @Test
  void shouldEmitEveryValidUuidOnceAndFinishAtTheEndOfTheBacklog() throws Exception {
    kafka.createTopic("raw_reference", 2);
    List<GeneratedEvent> sent =
        new TrafficGenerator(11, Instant.now().minus(Duration.ofMinutes(30)), 20, 300).next(3000);
    kafka.produce(
        "raw_reference", sent.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
    List<String> valid =
        sent.stream()
            .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
            .map(e -> e.uuid().toLowerCase(Locale.ROOT))
            .toList();
    assertThat(sent.stream().filter(e -> e.kind() == GeneratedEvent.Kind.DUPLICATE))
        .as("the backlog has duplicates to drop")
        .isNotEmpty();

    Configuration config = kafka.jobConfig("reference", "ref", postgres, tmp.resolve("pw-ref"));
    config.setString("tally.topic.raw", "raw_reference");
    config.setString("tally.parallelism", "2");
    config.setString("tally.source.stopping-offsets", "latest");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    List<String> emitted = new ArrayList<>();
    try (CloseableIterator<ValidEvent> out =
        ReferenceJob.build(env, config).executeAndCollect("tally-reference-test")) {
      out.forEachRemaining(e -> emitted.add(e.uuid.toLowerCase(Locale.ROOT)));
    } // returns only once the bounded job has finished

    Map<String, Long> times =
        emitted.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    assertThat(times.keySet()).containsExactlyInAnyOrderElementsOf(valid);
    assertThat(times.values()).allMatch(n -> n == 1);
  }
}
