package dev.tally.cli.stack;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The local stack's capture endpoint in its own JVM (its jar and classpath, nothing of Flink), with
 * its token file.
 */
public final class LocalCapture {
  private final StackLayout layout;
  private final Path home;
  private final ManagedProcess process;

  public LocalCapture(StackLayout layout, Path home) {
    this.layout = layout;
    this.home = home;
    this.process = new ManagedProcess(layout, "capture");
  }

  public boolean isRunning() {
    return process.isRunning(layout);
  }

  /** Stops it (SIGTERM, 15 s: it answers in-flight requests first); true when it was running. */
  public boolean stop() throws IOException {
    return process.stop(layout, Duration.ofSeconds(15));
  }

  /**
   * The PostHog-compatible capture endpoint in its own JVM (its jar and classpath, nothing of
   * Flink): local tokens {@code phc_local_<project>} on, plus the stack's token file.
   */
  public void start() throws Exception {
    Path tokens = layout.captureTokenFile();
    Files.createDirectories(tokens.getParent());
    if (!Files.exists(tokens)) {
      Files.writeString(
          tokens,
          "# TOKEN=PROJECT lines for the capture endpoint (read again when this file changes);\n"
              + "# phc_local_<project> maps to <project> unless a line here says otherwise.\n");
    }
    Path log4j = layout.dir().resolve("capture/log4j2.properties");
    Files.writeString(
        log4j,
        "rootLogger.level = WARN\nrootLogger.appenderRef.f.ref = f\nappender.f.type = File\n"
            + "appender.f.name = f\nappender.f.fileName = "
            + layout.logs().resolve("capture.log")
            + "\nappender.f.layout.type = PatternLayout\n"
            + "appender.f.layout.pattern = %d %-5p %c{1} - %m%n\n"
            + "logger.c.name = dev.tally.capture\nlogger.c.level = INFO\n");
    List<String> command =
        new ArrayList<>(
            List.of(
                ManagedProcess.java(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:+ExitOnOutOfMemoryError", // a dead producer thread must not leave a zombie
                ManagedProcess.marker(layout),
                "-Dlog4j2.configurationFile=" + log4j,
                "-cp",
                captureJar() + File.pathSeparator + ManagedProcess.classpath(home, "capture"),
                "dev.tally.capture.CaptureMain",
                "--host",
                "localhost",
                "--port",
                Integer.toString(layout.capturePort()),
                "--bootstrap-servers",
                layout.kafkaBootstrap(),
                "--topic",
                "events_raw",
                "--token-file",
                tokens.toString(),
                "--local-tokens"));
    process.start(command, Map.of(), layout.dir());
    ManagedProcess.waitFor("the capture endpoint", process, this::answers, layout.logs());
  }

  private String captureJar() throws IOException {
    try (var files = Files.list(home.resolve("capture/target"))) {
      return files
          .filter(f -> f.getFileName().toString().matches("tally-capture-.*\\.jar"))
          .filter(f -> !f.getFileName().toString().contains("-tests"))
          .findFirst()
          .orElseThrow(
              () -> new IOException("missing capture/target/tally-capture-*.jar: build first"))
          .toString();
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("missing capture/target: build first (./mvnw -DskipTests package)");
    }
  }

  /**
   * Adds {@code TOKEN=PROJECT} mappings to the capture endpoint's token file (the running endpoint
   * reads it again within a second). A token already mapped is remapped.
   */
  public void addTokens(Map<String, String> mappings) throws IOException {
    if (mappings.isEmpty()) {
      return;
    }
    Path file = layout.captureTokenFile();
    Files.createDirectories(file.getParent());
    java.util.Properties p = new java.util.Properties();
    if (Files.exists(file)) {
      try (var r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        p.load(r);
      }
    }
    mappings.forEach(p::setProperty);
    // written beside and moved into place: the running endpoint never reads half a file
    Path next = file.resolveSibling(file.getFileName() + ".next");
    try (var w = Files.newBufferedWriter(next, StandardCharsets.UTF_8)) {
      p.store(w, "TOKEN=PROJECT for the capture endpoint (./tally stack up --capture-token)");
    }
    Files.move(
        next,
        file,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** Whether the endpoint's health check answers 200. */
  public boolean answers() {
    String url = layout.captureUrl() + "/_health";
    try {
      HttpResponse<Void> r =
          HttpClient.newBuilder()
              .connectTimeout(Duration.ofSeconds(2))
              .build()
              .send(
                  HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(3)).build(),
                  HttpResponse.BodyHandlers.discarding());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
