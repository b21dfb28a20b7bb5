package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.cli.ExportCommand;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.audit.Audit;
import dev.tally.savepoints.upgrade.Backfill;
import dev.tally.sinks.PostgresForTests;
import dev.tally.sinks.postgres.GenerationRanges;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A backfill repairs a range: three hours of traffic counted live; one hour's rows of the live
 * generation are then damaged (as a bug or a lost write would), a bounded backfill recounts that
 * hour while the live job keeps running, and once applied analysts see — through the analyst login
 * — the backfill's rows for that hour, exact against an expectation computed from the generator,
 * and every other hour exactly as before, with the live generation's freshness; the export of the
 * hour is final. Rolling the range back shows the live rows again.
 */
class BackfillRangeIT extends EndToEndTest {
  private static final String RAW = "raw_bf";

  @Test
  void shouldShowTheBackfillInItsRangeAndTheLiveGenerationEverywhereElse() throws Exception {
    kafka.createTopic(RAW, 2);
    for (String t : List.of("enriched_bf", "dlq_bf", "late_bf")) {
      kafka.createTopic(t, 1);
    }
    Instant start = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(3));
    Instant from = start.plus(Duration.ofHours(1));
    Instant to = start.plus(Duration.ofHours(2));
    // three hours of event time, each record sent "when it happened" (Kafka time = event time)
    List<GeneratedEvent> sent = new TrafficGenerator(11, start, 3000.0 / 10_800, 40).next(3000);
    produceAtEventTime(sent);

    Configuration live = kafka.jobConfig("live", "bf", postgres, tmp.resolve("pw-live"));
    live.setString("tally.topic.raw", RAW);
    live.setString("tally.source.idleness", "2s");
    try (Connection c = postgres.admin()) {
      JobSubmission.activateGeneration(c, "live", List.of());
    }
    JobClient liveJob = start(live, "live");
    await()
        .atMost(Duration.ofSeconds(120))
        .untilAsserted(() -> assertThat(ledger("live").consumed()).isEqualTo(sent.size()));

    // damage: the live generation lost the hour's signup rows
    postgres.execute(
        "DELETE FROM tally.event_counts WHERE generation = 'live' AND event = 'signup'"
            + " AND window_start >= '"
            + from
            + "' AND window_start < '"
            + to
            + "'");
    Map<String, String> before = analystEventCounts();

    // the bounded backfill of that hour, while the live job runs
    Configuration bf = kafka.jobConfig("bf1", "bf", postgres, tmp.resolve("pw-bf"));
    bf.setString("tally.topic.raw", RAW);
    bf.setString("tally.source.idleness", "2s");
    Duration[] read = Backfill.readWindow(List.of());
    bf.setString(
        "tally.source.starting-offsets", "timestamp:" + from.minus(read[0]).toEpochMilli());
    bf.setString("tally.source.stopping-offsets", "timestamp:" + to.plus(read[1]).toEpochMilli());
    JobClient bfJob = start(bf, "bf1");
    bfJob.getJobExecutionResult().get();
    try (Connection c = postgres.admin()) {
      Audit.Report audit =
          Audit.run(
              c,
              new Audit.Target(
                  "bf1",
                  kafka.bootstrapServers(),
                  RAW,
                  "enriched_bf",
                  "dlq_bf",
                  Duration.ofSeconds(30)),
              3,
              Duration.ofSeconds(1));
      assertThat(audit.checks())
          .allSatisfy(k -> assertThat(k.ok()).as(k.name() + ": " + k.actual()).isTrue());
      assertThat(GenerationRanges.refusal(c, from, to)).isNull();
      assertThat(
              GenerationRanges.refusal(
                  c, from, Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.HOURS)))
          .contains("not final in the live generation");
      assertThat(GenerationRanges.refusal(c, from.plusSeconds(60), to)).contains("whole hours");
      GenerationRanges.apply(c, "bf1", from, to);
    }

    Map<String, String> after = analystEventCounts();
    Map<String, String> expectedInRange =
        ExpectedCounts.eventCounts(
            sent.stream()
                .filter(e -> !Instant.ofEpochMilli(e.timestampMillis()).isBefore(from))
                .filter(e -> Instant.ofEpochMilli(e.timestampMillis()).isBefore(to))
                .toList());
    assertThat(inRange(after, from, to, true))
        .as("the backfilled hour, exact")
        .isEqualTo(expectedInRange);
    assertThat(inRange(after, from, to, false))
        .as("every other hour unchanged")
        .isEqualTo(inRange(before, from, to, false));
    assertThat(inRange(before, from, to, true))
        .as("the damage was visible")
        .isNotEqualTo(expectedInRange);
    assertThat(finalFlags(from, to)).as("the repaired hour is final").containsOnly(true);
    assertThat(export("acme", from, to)).contains("signup").doesNotContain(",false,");

    try (Connection c = postgres.admin()) {
      assertThat(GenerationRanges.rollBack(c, "bf1")).isTrue();
    }
    assertThat(analystEventCounts()).as("rolled back: the live rows again").isEqualTo(before);

    liveJob
        .stopWithSavepoint(
            false, tmp.resolve("sp-live").toUri().toString(), SavepointFormatType.CANONICAL)
        .get();
    assertThat(postgres.preparedTransactions()).isEmpty();
  }

  private static JobClient start(Configuration config, String generation) throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    IngestionJob.build(env, config);
    return env.executeAsync("tally-ingestion-" + generation);
  }

  private static void produceAtEventTime(List<GeneratedEvent> events) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    p.put("acks", "all");
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      long last = events.get(0).timestampMillis();
      for (GeneratedEvent e : events) {
        long t = e.kind() == GeneratedEvent.Kind.INVALID ? last : e.timestampMillis();
        last = t;
        producer.send(new ProducerRecord<>(RAW, null, t, e.key(), e.avro()));
      }
      producer.flush();
    }
  }

  /** analytics.event_counts as the analyst login sees it: key → events/persons. */
  private static Map<String, String> analystEventCounts() throws Exception {
    Map<String, String> rows = new TreeMap<>();
    try (Connection c = postgres.as(PostgresForTests.ANALYST_USER);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT project, grain, (extract(epoch FROM window_start) * 1000)::bigint, event,"
                    + " events, persons FROM analytics.event_counts");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.put(
            rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getLong(3) + "|" + rs.getString(4),
            rs.getLong(5) + "/" + rs.getLong(6));
      }
    }
    return rows;
  }

  private static Map<String, String> inRange(
      Map<String, String> rows, Instant from, Instant to, boolean inside) {
    Map<String, String> out = new TreeMap<>();
    rows.forEach(
        (k, v) -> {
          long w = Long.parseLong(k.split("\\|")[2]);
          boolean in = w >= from.toEpochMilli() && w < to.toEpochMilli();
          if (in == inside) {
            out.put(k, v);
          }
        });
    return out;
  }

  private static List<Boolean> finalFlags(Instant from, Instant to) throws Exception {
    List<Boolean> flags = new java.util.ArrayList<>();
    try (Connection c = postgres.as(PostgresForTests.ANALYST_USER);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT is_final FROM analytics.event_counts WHERE window_start >= ? AND window_start < ?")) {
      ps.setTimestamp(1, java.sql.Timestamp.from(from));
      ps.setTimestamp(2, java.sql.Timestamp.from(to));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          flags.add(rs.getBoolean(1));
        }
      }
    }
    assertThat(flags).isNotEmpty();
    return flags;
  }

  private static String export(String project, Instant from, Instant to) throws Exception {
    ExportCommand command = new ExportCommand();
    new CommandLine(command)
        .parseArgs("--project", project, "--from", from.toString(), "--to", to.toString());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (Connection c = postgres.as(PostgresForTests.ANALYST_USER)) {
      int exit =
          command.export(
              c, from, to, new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
      assertThat(exit).isZero();
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
