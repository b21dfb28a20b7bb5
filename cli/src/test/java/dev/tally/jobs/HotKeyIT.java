package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * Hot keys at parallelism 2: one project carries half of the traffic and distinct_ids are
 * Zipf-distributed. The same skewed backlog is counted once with pre-aggregation of hot rows and
 * once without (bundle size 1); both must equal the expectation computed from the generator's
 * intent, row for row, and the pre-aggregated run must really have merged contributions (fewer row
 * revisions than events on the hot rows).
 */
class HotKeyIT extends EndToEndTest {
  private static final int EVENTS = 4000;

  @Test
  void shouldCountSkewedTrafficIdenticallyWithAndWithoutPreAggregation() throws Exception {
    kafka.createTopic("raw_hot", 2);
    for (String suffix : List.of("hotb", "hotu")) {
      for (String t : List.of("enriched_", "dlq_", "late_")) {
        kafka.createTopic(t + suffix, 1);
      }
    }
    List<GeneratedEvent> sent =
        TrafficGenerator.skewed(42, Instant.now().minus(Duration.ofMinutes(30)), 20, 500)
            .next(EVENTS);
    long hot =
        sent.stream()
            .filter(e -> e.kind() == GeneratedEvent.Kind.VALID)
            .filter(e -> TrafficGenerator.HOT_PROJECT.equals(e.project()))
            .count();
    assertThat(hot).as("the hot project carries about half").isBetween(1700L, 2200L);
    kafka.produce("raw_hot", sent.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
    Map<String, String> expected = ExpectedCounts.eventCounts(sent);

    run("hotbundled", "hotb", 1000);
    run("hotunbundled", "hotu", 1);

    try (Connection c = postgres.admin()) {
      assertThat(ExpectedCounts.committed(c, "hotbundled")).isEqualTo(expected);
      assertThat(ExpectedCounts.committed(c, "hotunbundled")).isEqualTo(expected);
      assertThat(revisionsOfHotRows(c, "hotunbundled"))
          .as("without bundles every event is one row revision")
          .isEqualTo(hot * 2); // minute and hour rows
      assertThat(revisionsOfHotRows(c, "hotbundled"))
          .as("bundles merge the hot rows' contributions")
          .isLessThan(hot);
    }
    assertThat(postgres.preparedTransactions()).isEmpty();
  }

  private void run(String generation, String suffix, int bundleEvents) throws Exception {
    Configuration config =
        kafka.jobConfig(generation, suffix, postgres, tmp.resolve("pw-" + generation));
    config.setString("tally.topic.raw", "raw_hot");
    config.setString("tally.parallelism", "2");
    config.setString("tally.source.idleness", "2s");
    config.setString("tally.aggregation.bundle-events", Integer.toString(bundleEvents));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("tally-" + generation);
    await()
        .atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(300))
        .untilAsserted(() -> assertThat(ledger(generation).consumed()).isEqualTo(EVENTS));
    job.stopWithSavepoint(
            false,
            tmp.resolve("sp-" + generation).toUri().toString(),
            SavepointFormatType.CANONICAL)
        .get();
  }

  /** Sum of the newest revision numbers of the hot project's event_counts rows. */
  private static long revisionsOfHotRows(Connection c, String generation) throws Exception {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT coalesce(sum(r), 0) FROM (SELECT max(revision) AS r FROM tally.event_counts"
                + " WHERE generation = ? AND project = ?"
                + " GROUP BY grain, window_start, event) newest")) {
      ps.setString(1, generation);
      ps.setString(2, TrafficGenerator.HOT_PROJECT);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
