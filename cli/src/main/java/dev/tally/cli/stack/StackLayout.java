package dev.tally.cli.stack;

import dev.tally.jobs.JobArgs;
import dev.tally.jobs.JobOptions;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;

/**
 * Where the local stack keeps everything (one folder: data, logs, configuration, pids, secrets) and
 * which ports it uses. Saved by {@code stack up} so that {@code status}, {@code down} and {@code
 * demo} find the same stack.
 */
public record StackLayout(
    Path dir,
    int kafkaPort,
    int kafkaControllerPort,
    int postgresPort,
    int flinkRestPort,
    int flinkRpcPort,
    int capturePort) {

  public static final int DEFAULT_KAFKA_PORT = 19092;
  public static final int DEFAULT_KAFKA_CONTROLLER_PORT = 19093;
  public static final int DEFAULT_POSTGRES_PORT = 15432;
  public static final int DEFAULT_FLINK_REST_PORT = 8081;
  public static final int DEFAULT_FLINK_RPC_PORT = 16123;
  public static final int DEFAULT_CAPTURE_PORT = 18000;

  public static final String DATABASE = "tally";
  public static final String WRITER_USER = "tally_job";
  public static final String ANALYST_USER = "tally_reader";
  public static final String AUDITOR_USER = "tally_audit";

  public Path logs() {
    return dir.resolve("logs");
  }

  public Path run() {
    return dir.resolve("run");
  }

  public Path secrets() {
    return dir.resolve("secrets");
  }

  /** The password of the local PostgreSQL's superuser {@code postgres}. */
  public Path superuserPasswordFile() {
    return secrets().resolve("pg-superuser-password");
  }

  public Path writerPasswordFile() {
    return secrets().resolve("pg-writer-password");
  }

  public Path analystPasswordFile() {
    return secrets().resolve("pg-analyst-password");
  }

  public Path auditorPasswordFile() {
    return secrets().resolve("pg-auditor-password");
  }

  public String kafkaBootstrap() {
    return "localhost:" + kafkaPort;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + postgresPort + "/" + DATABASE;
  }

  public String adminJdbcUrl() {
    return "jdbc:postgresql://localhost:" + postgresPort + "/postgres";
  }

  public String captureUrl() {
    return "http://localhost:" + capturePort;
  }

  /** The capture endpoint's token file ({@code TOKEN=PROJECT}; read again when it changes). */
  public Path captureTokenFile() {
    return dir.resolve("capture/tokens.properties");
  }

  public String flinkRestUrl() {
    return "http://localhost:" + flinkRestPort;
  }

  private static Path stateFile(Path dir) {
    return dir.resolve("stack.properties");
  }

  public void save() throws IOException {
    Properties p = new Properties();
    p.setProperty("kafka.port", Integer.toString(kafkaPort));
    p.setProperty("kafka.controller.port", Integer.toString(kafkaControllerPort));
    p.setProperty("postgres.port", Integer.toString(postgresPort));
    p.setProperty("flink.rest.port", Integer.toString(flinkRestPort));
    p.setProperty("flink.rpc.port", Integer.toString(flinkRpcPort));
    p.setProperty("capture.port", Integer.toString(capturePort));
    Files.createDirectories(dir);
    try (Writer w = Files.newBufferedWriter(stateFile(dir), StandardCharsets.UTF_8)) {
      p.store(w, "ports of the local Tally stack (written by ./tally stack up)");
    }
  }

  /** The saved layout of a stack in {@code dir}, or null when none was brought up there. */
  public static StackLayout load(Path dir) throws IOException {
    Path file = stateFile(dir);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    return new StackLayout(
        dir,
        Integer.parseInt(p.getProperty("kafka.port")),
        Integer.parseInt(p.getProperty("kafka.controller.port")),
        Integer.parseInt(p.getProperty("postgres.port")),
        Integer.parseInt(p.getProperty("flink.rest.port")),
        Integer.parseInt(p.getProperty("flink.rpc.port")),
        // a stack saved before the capture endpoint existed gets the default port
        Integer.parseInt(p.getProperty("capture.port", Integer.toString(DEFAULT_CAPTURE_PORT))));
  }

  /** The ingestion job's program arguments on this stack (the writer login, its password file). */
  public List<String> jobArgs(
      String generation, Duration checkpointInterval, String startingOffsets) {
    return JobArgs.empty()
        .set(JobOptions.STARTING_OFFSETS, startingOffsets)
        .set(JobOptions.GENERATION, generation)
        .set(JobOptions.KAFKA_BOOTSTRAP, kafkaBootstrap())
        .set(JobOptions.POSTGRES_URL, jdbcUrl())
        .set(JobOptions.POSTGRES_USER, WRITER_USER)
        // a path, not the secret: the TaskManagers read the password from the file
        .set(JobOptions.POSTGRES_PASSWORD_FILE, writerPasswordFile().toString())
        .set(JobOptions.CHECKPOINT_INTERVAL, checkpointInterval)
        .set(JobOptions.PARALLELISM, 2)
        .toList();
  }
}
