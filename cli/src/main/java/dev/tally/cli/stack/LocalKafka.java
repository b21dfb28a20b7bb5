package dev.tally.cli.stack;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * The local stack's Kafka 4.2 broker: KRaft, broker and controller in one JVM of its own (classpath
 * {@code stack/kafka-broker}), data under the stack's folder, so a stop and a start keep every
 * topic and offset — what a broker restart in a drill or a test needs.
 */
public final class LocalKafka {
  private final StackLayout layout;
  private final Path home;
  private final ManagedProcess process;

  public LocalKafka(StackLayout layout, Path home) {
    this.layout = layout;
    this.home = home;
    this.process = new ManagedProcess(layout, "kafka");
  }

  public boolean isRunning() {
    return process.isRunning(layout);
  }

  /** Graceful stop (SIGTERM, 30 s); true when it was running. */
  public boolean stop() throws IOException {
    return process.stop(layout, Duration.ofSeconds(30));
  }

  /** Starts the broker on the stack's ports and data (formatting the storage the first time). */
  public void start() throws Exception {
    Files.createDirectories(layout.logs());
    Path config = layout.dir().resolve("kafka/server.properties");
    Path logDir = layout.dir().resolve("kafka/data");
    Files.createDirectories(logDir);
    Properties p = new Properties();
    p.setProperty("process.roles", "broker,controller");
    p.setProperty("node.id", "1");
    p.setProperty(
        "controller.quorum.bootstrap.servers", "localhost:" + layout.kafkaControllerPort());
    p.setProperty(
        "listeners",
        "PLAINTEXT://localhost:"
            + layout.kafkaPort()
            + ",CONTROLLER://localhost:"
            + layout.kafkaControllerPort());
    p.setProperty("advertised.listeners", "PLAINTEXT://localhost:" + layout.kafkaPort());
    p.setProperty("controller.listener.names", "CONTROLLER");
    p.setProperty("listener.security.protocol.map", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT");
    p.setProperty("log.dirs", logDir.toString());
    p.setProperty("num.partitions", "2");
    p.setProperty("offsets.topic.replication.factor", "1");
    p.setProperty("transaction.state.log.replication.factor", "1");
    p.setProperty("transaction.state.log.min.isr", "1");
    p.setProperty("group.initial.rebalance.delay.ms", "0");
    p.setProperty("log.retention.hours", "168");
    try (var w = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
      p.store(w, "Kafka broker of the local Tally stack");
    }
    Path log4j = layout.dir().resolve("kafka/log4j2.properties");
    Files.writeString(
        log4j,
        "rootLogger.level = INFO\nrootLogger.appenderRef.f.ref = f\nappender.f.type = File\nappender.f.name = f\n"
            + "appender.f.fileName = "
            + layout.logs().resolve("kafka.log")
            + "\nappender.f.layout.type = PatternLayout\n"
            + "appender.f.layout.pattern = %d %-5p %c{1} - %m%n\n");
    List<String> base =
        new ArrayList<>(
            List.of(ManagedProcess.java(), "-Xmx512m", "-Xms256m", ManagedProcess.marker(layout)));
    base.add("-Dlog4j2.configurationFile=" + log4j);
    base.add("-cp");
    base.add(ManagedProcess.classpath(home, "stack/kafka-broker"));

    if (!Files.exists(logDir.resolve("meta.properties"))) {
      List<String> format = new ArrayList<>(base);
      format.addAll(
          List.of(
              "kafka.tools.StorageTool",
              "format",
              "--standalone",
              "-t",
              Uuid.randomUuid().toString(),
              "-c",
              config.toString()));
      Process f =
          new ProcessBuilder(format)
              .redirectErrorStream(true)
              .redirectOutput(
                  ProcessBuilder.Redirect.appendTo(layout.logs().resolve("kafka.out").toFile()))
              .start();
      if (!f.waitFor(60, TimeUnit.SECONDS) || f.exitValue() != 0) {
        throw new IOException(
            "formatting Kafka storage failed; see " + layout.logs().resolve("kafka.out"));
      }
    }
    List<String> server = new ArrayList<>(base);
    server.addAll(List.of("kafka.Kafka", config.toString()));
    process.start(server, Map.of(), layout.dir());
    ManagedProcess.waitFor("Kafka", process, this::ready, layout.logs());
  }

  boolean ready() {
    if (!ManagedProcess.isListening(layout.kafkaPort())) {
      return false;
    }
    Properties p = new Properties();
    p.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, layout.kafkaBootstrap());
    p.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
    p.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "3000");
    try (Admin admin = Admin.create(p)) {
      return !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty();
    } catch (Exception e) {
      return false;
    }
  }
}
