package dev.tally.cli;

import dev.tally.cli.stack.LocalStack;
import dev.tally.cli.stack.StackLayout;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the local stack lives and which ports it uses (shared by stack, db, demo). */
final class StackOptions {
  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description = "stack folder (default: .tally/stack in the project)")
  Path dir;

  @Option(
      names = "--kafka-port",
      paramLabel = "PORT",
      description = "Kafka port (controller: +1; default ${DEFAULT-VALUE})",
      defaultValue = "" + StackLayout.DEFAULT_KAFKA_PORT)
  int kafkaPort;

  @Option(
      names = "--postgres-port",
      paramLabel = "PORT",
      description = "PostgreSQL port (default ${DEFAULT-VALUE})",
      defaultValue = "" + StackLayout.DEFAULT_POSTGRES_PORT)
  int postgresPort;

  @Option(
      names = "--flink-port",
      paramLabel = "PORT",
      description = "Flink web UI / REST port (default ${DEFAULT-VALUE})",
      defaultValue = "" + StackLayout.DEFAULT_FLINK_REST_PORT)
  int flinkPort;

  @Option(
      names = "--flink-rpc-port",
      paramLabel = "PORT",
      description = "Flink JobManager RPC port (default ${DEFAULT-VALUE})",
      defaultValue = "" + StackLayout.DEFAULT_FLINK_RPC_PORT)
  int flinkRpcPort;

  @Option(
      names = "--capture-port",
      paramLabel = "PORT",
      description = "PostHog-compatible capture endpoint port (default ${DEFAULT-VALUE})",
      defaultValue = "" + StackLayout.DEFAULT_CAPTURE_PORT)
  int capturePort;

  static Path home() {
    return Path.of(System.getProperty("tally.home", ".")).toAbsolutePath().normalize();
  }

  Path stackDir() {
    return (dir != null ? dir : home().resolve(".tally/stack")).toAbsolutePath().normalize();
  }

  /** The layout to bring up: saved ports win only when the caller gave none. */
  StackLayout layoutForUp() {
    return new StackLayout(
        stackDir(), kafkaPort, kafkaPort + 1, postgresPort, flinkPort, flinkRpcPort, capturePort);
  }

  /** The layout of an existing stack, or a usage error naming the folder. */
  StackLayout existingLayout() throws IOException {
    StackLayout layout = StackLayout.load(stackDir());
    if (layout == null) {
      throw new UserFacingErrors.UsageError(
          "no local stack in " + stackDir() + ": run './tally stack up' first");
    }
    return layout;
  }

  /** The local stack for a run: the one that is up, or one started now ({@code started}). */
  record Session(LocalStack stack, boolean started) {}

  Session upIfNeeded() throws Exception {
    StackLayout saved = StackLayout.load(stackDir());
    LocalStack stack = new LocalStack(saved != null ? saved : layoutForUp(), home(), System.out);
    boolean started = !stack.isUp();
    if (started) {
      System.out.println("starting the local stack …");
      try {
        stack.up();
      } catch (LocalStack.PortTakenException e) {
        throw new UserFacingErrors.UsageError(e.getMessage());
      }
    }
    return new Session(stack, started);
  }

  /**
   * Runs {@code body}, then {@code cleanUp} exactly once: at the end, or on Ctrl-C from a shutdown
   * hook (which first sets {@code stop}, so the body can wind down).
   */
  static <T> T withCleanUp(
      java.util.concurrent.atomic.AtomicBoolean stop,
      Runnable cleanUp,
      java.util.concurrent.Callable<T> body)
      throws Exception {
    Thread hook =
        new Thread(
            () -> {
              stop.set(true);
              cleanUp.run();
            },
            "tally-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return body.call();
    } finally {
      if (!stop.get()) {
        Runtime.getRuntime().removeShutdownHook(hook);
        cleanUp.run();
      }
    }
  }

  LocalStack existingStack() throws IOException {
    return new LocalStack(existingLayout(), home(), System.out);
  }
}
