package dev.tally.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The demo's traffic in PostHog's form: every field of a generated event carried over (so the job
 * sees the same event, and dead-letters the same invalid ones), junk bytes not sendable.
 */
class CaptureTrafficTest {
  @Test
  void shouldCarryEveryGeneratedEventAndOnlyThose() throws Exception {
    TrafficGenerator g = new TrafficGenerator(42, Instant.parse("2026-12-02T12:00:00Z"), 100, 500);
    int junk = 0;
    for (int i = 0; i < 3000; i++) {
      GeneratedEvent e = g.next();
      CaptureTraffic.PostHogEvent p = CaptureTraffic.toPostHog(e);
      if (p == null) {
        assertThat(e.kind()).isEqualTo(GeneratedEvent.Kind.INVALID);
        junk++;
        continue;
      }
      if (e.kind() != GeneratedEvent.Kind.INVALID) {
        assertThat(p.project()).isEqualTo(e.project());
        assertThat(p.json().get("uuid")).isEqualTo(e.uuid());
        assertThat(p.json().get("event")).isEqualTo(e.event());
        assertThat(p.json().get("distinct_id")).isEqualTo(e.distinctId());
        assertThat(Instant.parse((String) p.json().get("timestamp")).toEpochMilli())
            .isEqualTo(e.timestampMillis());
      }
    }
    assertThat(junk).as("the generator's junk records exist and are not sent").isPositive();
  }
}
