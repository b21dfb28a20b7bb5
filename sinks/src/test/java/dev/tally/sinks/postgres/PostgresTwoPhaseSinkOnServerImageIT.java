package dev.tally.sinks.postgres;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tally.sinks.PostgresForTests;
import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * The same protocol tests against the official {@code postgres:17} server image instead of the
 * embedded binaries. Opt-in ({@code -Dtally.docker=true}) and skipped cleanly without a Docker
 * engine, which these build machines and CI do not have.
 */
class PostgresTwoPhaseSinkOnServerImageIT extends PostgresTwoPhaseSinkTest {

  @BeforeAll
  @SuppressWarnings("resource") // closed through PostgresForTests.close()
  static void startPostgres() throws Exception {
    assumeTrue(Boolean.getBoolean("tally.docker"), "Docker tests are opt-in: -Dtally.docker=true");
    assumeTrue(DockerClientFactory.instance().isDockerAvailable(), "no Docker engine: skipped");
    GenericContainer<?> container =
        new GenericContainer<>("postgres:17")
            .withEnv("POSTGRES_PASSWORD", "postgres")
            .withCommand("postgres", "-c", "max_prepared_transactions=20")
            .withExposedPorts(5432)
            .waitingFor(
                Wait.forLogMessage(".*database system is ready to accept connections.*", 2));
    container.start();
    db =
        PostgresForTests.external(
            container.getHost(), container.getMappedPort(5432), "postgres", container::stop);
  }
}
