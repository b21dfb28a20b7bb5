package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tally.cli.demo.Topics;
import dev.tally.cli.demo.TrafficProducer;
import dev.tally.cli.traffic.ExpectedCounts;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.savepoints.HttpFlinkRest;
import dev.tally.savepoints.JobSubmission;
import dev.tally.savepoints.audit.Audit;
import dev.tally.sinks.PostgresForTests;
import dev.tally.sinks.postgres.CommittedRows;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.kafka.KafkaContainer;

/**
 * For teams whose CI has Docker: the shaded job jar on the official {@code flink:2.2.0-java17}
 * image (JobManager + TaskManager containers), with Kafka ({@code apache/kafka}) and PostgreSQL
 * ({@code postgres:17}) containers, submitted over REST like the demo, then the demo's checks:
 * every event accounted for, rows equal the generator's expectation, audit clean. Opt-in ({@code
 * -Dtally.docker=true}); skipped cleanly without a Docker engine. Not run on the machines this
 * project is built on (they have no Docker engine).
 */
class FlinkImageIT {
  private static final int EVENTS = 2000;

  @Test
  @SuppressWarnings("resource") // every container is closed at the end of the test
  void shouldRunTheShadedJarOnTheOfficialFlinkImage() throws Exception {
    assumeTrue(Boolean.getBoolean("tally.docker"), "Docker tests are opt-in: -Dtally.docker=true");
    assumeTrue(DockerClientFactory.instance().isDockerAvailable(), "no Docker engine: skipped");
    String flinkProperties =
        String.join(
            "\n",
            "jobmanager.rpc.address: jobmanager",
            "taskmanager.numberOfTaskSlots: 2",
            "state.backend.type: rocksdb",
            "execution.checkpointing.dir: file:///tmp/checkpoints");
    try (Network network = Network.newNetwork();
        KafkaContainer kafka =
            new KafkaContainer("apache/kafka:3.9.0")
                .withNetwork(network)
                .withListener("kafka:19092");
        GenericContainer<?> postgresServer =
            new GenericContainer<>("postgres:17")
                .withNetwork(network)
                .withNetworkAliases("postgres")
                .withEnv("POSTGRES_PASSWORD", "postgres")
                .withCommand("postgres", "-c", "max_prepared_transactions=20")
                .withExposedPorts(5432)
                .waitingFor(
                    Wait.forLogMessage(".*database system is ready to accept connections.*", 2));
        GenericContainer<?> jobManager =
            new GenericContainer<>("flink:2.2.0-java17")
                .withNetwork(network)
                .withNetworkAliases("jobmanager")
                .withCommand("jobmanager")
                .withEnv("FLINK_PROPERTIES", flinkProperties)
                .withExposedPorts(8081)
                .waitingFor(Wait.forHttp("/overview").forPort(8081));
        GenericContainer<?> taskManager =
            new GenericContainer<>("flink:2.2.0-java17")
                .withNetwork(network)
                .withCommand("taskmanager")
                .withEnv("FLINK_PROPERTIES", flinkProperties)
                .withCopyToContainer(
                    Transferable.of(PostgresForTests.PASSWORD), "/etc/tally/pg-writer-password")) {
      kafka.start();
      postgresServer.start();
      jobManager.start();
      taskManager.start();
      PostgresForTests postgres =
          PostgresForTests.external(
              postgresServer.getHost(), postgresServer.getMappedPort(5432), "postgres", () -> {});
      Topics.ensure(kafka.getBootstrapServers(), 2);
      String generation = "image";
      try (Connection c = postgres.admin()) {
        JobSubmission.activateGeneration(c, generation, List.of()); // the job runs with defaults
      }
      HttpFlinkRest flink =
          new HttpFlinkRest(
              "http://" + jobManager.getHost() + ":" + jobManager.getMappedPort(8081),
              Duration.ofSeconds(60));
      Path jar = JobSubmission.jobJar(Path.of(System.getProperty("user.dir")).getParent());
      String job =
          flink.runJar(
              flink.uploadJar(jar),
              IngestionJob.class.getName(),
              List.of(
                  "--tally.generation", generation,
                  "--tally.kafka.bootstrap-servers", "kafka:19092",
                  "--tally.postgres.url", "jdbc:postgresql://postgres:5432/postgres",
                  "--tally.postgres.user", PostgresForTests.WRITER_USER,
                  "--tally.postgres.password-file", "/etc/tally/pg-writer-password",
                  "--tally.checkpoint-interval", "1s",
                  "--tally.parallelism", "2"),
              null);

      List<GeneratedEvent> sent =
          new TrafficGenerator(7, Instant.now().minus(Duration.ofMinutes(20)), 3, 40).next(EVENTS);
      try (TrafficProducer producer = new TrafficProducer(kafka.getBootstrapServers())) {
        sent.forEach(producer::send);
      }
      await()
          .atMost(Duration.ofMinutes(3))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                try (Connection c = postgres.admin()) {
                  assertThat(CommittedRows.ledgerTotals(c, generation).consumed())
                      .isEqualTo(EVENTS);
                }
              });
      flink.cancel(job);
      try (Connection c = postgres.admin()) {
        assertThat(ExpectedCounts.committed(c, generation))
            .isEqualTo(ExpectedCounts.eventCounts(sent));
        Audit.Report audit =
            Audit.run(
                c,
                new Audit.Target(
                    generation,
                    kafka.getBootstrapServers(),
                    Topics.RAW,
                    Topics.ENRICHED,
                    Topics.DEAD_LETTER,
                    Duration.ofMinutes(5)),
                3,
                Duration.ofSeconds(2));
        assertThat(audit.checks())
            .allSatisfy(check -> assertThat(check.ok()).as(check.name()).isTrue());
      }
    }
  }
}
