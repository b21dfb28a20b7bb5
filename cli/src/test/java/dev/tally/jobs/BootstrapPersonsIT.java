package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.tally.avro.EnrichedEvent;
import dev.tally.avro.RawEvent;
import dev.tally.cli.TallyCli;
import dev.tally.savepoints.SavepointInspection;
import dev.tally.sinks.PostgresForTests;
import dev.tally.sinks.kafka.AvroCodec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * The migration from an existing persons table: {@code tally bootstrap-persons} validates the rows
 * (rejecting bad ones and a distinct_id claimed twice), writes the valid persons into a savepoint,
 * and the ingestion job started from it enriches events of a bootstrapped distinct_id with the
 * bootstrapped person and properties.
 */
class BootstrapPersonsIT extends EndToEndTest {

  @Test
  void shouldEnrichEventsWithBootstrappedPersons() throws Exception {
    Path csv = tmp.resolve("persons.csv");
    Files.writeString(
        csv,
        String.join(
            "\n",
            "project,person_id,distinct_ids,properties,is_identified",
            "acme,p-legacy-1,\"[\"\"user-1\"\",\"\"anon-9\"\"]\",\"{\"\"plan\"\":\"\"enterprise\"\",\"\"company\"\":\"\"Initech\"\"}\",true",
            "acme,,\"[\"\"user-2\"\"]\",{},false",
            "acme,p-bad,\"[\"\"user-3\"\"]\",\"[1,2]\",false",
            "acme,p-dup,\"[\"\"anon-9\"\"]\",{},false",
            ""));
    Path savepoint = tmp.resolve("bootstrapped");

    int exit =
        TallyCli.execute(
            "bootstrap-persons", "--csv", csv.toString(), "--out", savepoint.toString());

    assertThat(exit).as("rejected rows make the exit code 1").isEqualTo(1);
    StreamExecutionEnvironment local = StreamExecutionEnvironment.getExecutionEnvironment();
    String uri = savepoint.toUri().toString();
    assertThat(SavepointInspection.countPersons(local, uri, TallyTopology.Uids.ENRICH))
        .as("the two valid persons; the invalid row and the second claim of anon-9 are not written")
        .isEqualTo(2);

    kafka.createTopic("raw_b", 2);
    for (String t : List.of("enriched_b", "dlq_b", "late_b")) {
      kafka.createTopic(t, 1);
    }
    Configuration config = kafka.jobConfig("boot", "b", postgres, tmp.resolve("pw-boot"));
    config.setString("execution.state-recovery.path", uri);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("bootstrapped");

    Instant ts = Instant.now().truncatedTo(ChronoUnit.SECONDS).minusSeconds(120);
    byte[] event =
        AvroCodec.encode(
            RawEvent.newBuilder()
                .setUuid(UUID.randomUUID().toString())
                .setProject("acme")
                .setEvent("$pageview")
                .setDistinctId("anon-9")
                .setTimestamp(ts.toString())
                .setProperties("{\"$set\":{\"seen\":\"yes\"}}")
                .build());
    kafka.produce("raw_b", List.<byte[][]>of(new byte[][] {"acme:anon-9".getBytes(), event}));

    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(kafka.readCommitted("enriched_b")).hasSize(1));
    String stopped =
        job.stopWithSavepoint(
                false, tmp.resolve("sp-boot").toUri().toString(), SavepointFormatType.CANONICAL)
            .get();
    EnrichedEvent enriched =
        AvroCodec.decode(kafka.readCommitted("enriched_b").get(0).value(), EnrichedEvent.class);
    assertThat(enriched.getPersonId()).isEqualTo("p-legacy-1");
    assertThat(enriched.getPersonProperties())
        .isEqualTo("{\"plan\":\"enterprise\",\"company\":\"Initech\",\"seen\":\"yes\"}");

    // inspect the job's own savepoint: every stateful operator by uid, persons and dedup keys
    SavepointInspection.Metadata m = SavepointInspection.metadata(stopped);
    assertThat(m.has(TallyTopology.Uids.ENRICH) && m.has(TallyTopology.Uids.DEDUP)).isTrue();
    assertThat(SavepointInspection.countPersons(local, stopped, TallyTopology.Uids.ENRICH))
        .isEqualTo(2);
    assertThat(SavepointInspection.countDedupKeys(local, stopped, TallyTopology.Uids.DEDUP))
        .isEqualTo(1);
    assertThat(TallyCli.execute("inspect", stopped, "--person", "acme:anon-9")).isZero();
    assertThat(TallyCli.execute("inspect", stopped, "--person", "acme:nobody")).isEqualTo(1);
    assertThat(TallyCli.execute("inspect", tmp.resolve("nothing-here").toString())).isEqualTo(2);
  }

  @Test
  void shouldBootstrapFromAPostgresTableThroughJdbc() throws Exception {
    try (java.sql.Connection c = postgres.admin();
        java.sql.Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE legacy_persons (project text, person_id text, distinct_ids text[],"
              + " properties jsonb, is_identified boolean)");
      st.execute(
          "INSERT INTO legacy_persons VALUES"
              + " ('acme', 'p-1', ARRAY['u-1','a-1'], '{\"plan\": \"pro\"}', true),"
              + " ('acme', '', ARRAY['u-2'], '{}', false),"
              + " ('acme', 'p-3', ARRAY['u-3'], '[1]', false)");
      st.execute("GRANT SELECT ON legacy_persons TO " + PostgresForTests.ANALYST_USER);
    }
    Path password = tmp.resolve("reader-password");
    Files.writeString(password, PostgresForTests.PASSWORD);
    Path savepoint = tmp.resolve("from-jdbc");

    int exit =
        TallyCli.execute(
            "bootstrap-persons",
            "--jdbc-url",
            postgres.url(),
            "--table",
            "legacy_persons",
            "--user",
            PostgresForTests.ANALYST_USER,
            "--password-file",
            password.toString(),
            "--out",
            savepoint.toString());

    assertThat(exit).as("the jsonb array is not an object: rejected").isEqualTo(1);
    StreamExecutionEnvironment local = StreamExecutionEnvironment.getExecutionEnvironment();
    List<org.apache.flink.api.java.tuple.Tuple2<String, dev.tally.avro.PersonState>> p1 =
        SavepointInspection.person(
            local, savepoint.toUri().toString(), TallyTopology.Uids.ENRICH, "acme", "a-1");
    assertThat(p1).hasSize(1);
    assertThat(p1.get(0).f1.getPersonId()).isEqualTo("p-1");
    assertThat(p1.get(0).f1.getProperties()).isEqualTo("{\"plan\":\"pro\"}");
    assertThat(
            SavepointInspection.countPersons(
                local, savepoint.toUri().toString(), TallyTopology.Uids.ENRICH))
        .isEqualTo(2);
    assertThat(
            TallyCli.execute("bootstrap-persons", "--csv", "x.csv", "--out", savepoint.toString()))
        .as("an existing output directory is refused")
        .isEqualTo(2);
  }
}
