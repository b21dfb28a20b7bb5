package dev.tally.cli.stack;

import dev.tally.savepoints.Poll;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A background process of the local stack: started detached from the terminal ({@code setsid}) with
 * its output in a log file, its pid in {@code run/<name>.pid}, and a marker argument so that {@code
 * stop} never kills a process it did not start (pids get reused).
 */
final class ManagedProcess {
  private final String name;
  private final Path pidFile;
  private final Path logFile;

  ManagedProcess(StackLayout layout, String name) {
    this.name = name;
    this.pidFile = layout.run().resolve(name + ".pid");
    this.logFile = layout.logs().resolve(name + ".out");
  }

  String name() {
    return name;
  }

  Path logFile() {
    return logFile;
  }

  static String marker(StackLayout layout) {
    return "-Dtally.stack=" + layout.dir().toAbsolutePath();
  }

  void start(List<String> command, Map<String, String> env, Path workDir) throws IOException {
    Files.createDirectories(pidFile.getParent());
    Files.createDirectories(logFile.getParent());
    List<String> full = new ArrayList<>();
    if (new File("/usr/bin/setsid").canExecute() || new File("/bin/setsid").canExecute()) {
      full.add("setsid"); // detach: Ctrl-C in the terminal must not kill the stack
    }
    full.addAll(command);
    ProcessBuilder pb = new ProcessBuilder(full);
    pb.directory(workDir.toFile());
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Process p = pb.start();
    Files.writeString(pidFile, Long.toString(p.pid()), StandardCharsets.US_ASCII);
  }

  /** The running process this stack started, if any. */
  Optional<ProcessHandle> handle(StackLayout layout) {
    try {
      if (!Files.isRegularFile(pidFile)) {
        return Optional.empty();
      }
      long pid = Long.parseLong(Files.readString(pidFile).strip());
      return ProcessHandle.of(pid)
          .filter(ProcessHandle::isAlive)
          .filter(h -> h.info().commandLine().map(c -> c.contains(marker(layout))).orElse(false));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether the process started last is still alive, by pid only: right after start its command
   * line can be briefly unreadable (exec of setsid → java), so start-up checks must not use the
   * marker.
   */
  boolean isAliveAfterStart() {
    try {
      long pid = Long.parseLong(Files.readString(pidFile).strip());
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    } catch (IOException | NumberFormatException e) {
      return false;
    }
  }

  boolean isRunning(StackLayout layout) {
    return handle(layout).isPresent();
  }

  /** SIGTERM, wait, then SIGKILL; removes the pid file. Returns true if something was stopped. */
  boolean stop(StackLayout layout, Duration grace) throws IOException {
    Optional<ProcessHandle> h = handle(layout);
    if (h.isPresent()) {
      ProcessHandle process = h.get();
      List<ProcessHandle> children = process.descendants().toList();
      process.destroy();
      if (!awaitExit(process, grace)) {
        process.destroyForcibly();
      }
      for (ProcessHandle c : children) {
        if (c.isAlive()) {
          c.destroyForcibly();
        }
      }
    }
    Files.deleteIfExists(pidFile);
    return h.isPresent();
  }

  /** kill -9, for fault drills. */
  void kill(StackLayout layout) throws IOException {
    Optional<ProcessHandle> h = handle(layout);
    if (h.isEmpty()) {
      throw new IOException(name + " is not running");
    }
    h.get().destroyForcibly();
    try {
      h.get().onExit().get(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException(name + " did not die after kill -9", e);
    }
  }

  static boolean isPortFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("localhost", port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static boolean isListening(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("localhost", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Whether a process is ready to serve (a port answers, an API replies). */
  interface Check {
    boolean ready() throws Exception;
  }

  static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

  /** Waits until {@code check} holds, failing fast when the process exits during start-up. */
  static void waitFor(String what, ManagedProcess process, Check check, Path logs)
      throws Exception {
    Boolean ready =
        Poll.until(
            STARTUP_TIMEOUT,
            Duration.ofMillis(500),
            () -> {
              if (!process.isAliveAfterStart()) {
                throw new IOException(
                    jvmShuttingDown()
                        // Ctrl-C reaches the whole process group: the child stopped with the
                        // command
                        ? what + " stopped: the command was interrupted"
                        : what + " exited during start-up; see " + process.logFile());
              }
              return check.ready() ? Boolean.TRUE : null;
            });
    if (ready == null) {
      throw new IOException(
          what + " did not become ready within " + STARTUP_TIMEOUT.toSeconds() + " s; see " + logs);
    }
  }

  /**
   * Waits up to {@code timeout} for {@code process} to exit; whether it did. An interrupt (Ctrl-C
   * while stopping) ends the wait and is kept for the caller.
   */
  static boolean awaitExit(ProcessHandle process, Duration timeout) {
    try {
      process.onExit().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
      return !process.isAlive();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }

  /** Whether this JVM is running its shutdown hooks (Ctrl-C, SIGTERM). */
  static boolean jvmShuttingDown() {
    Thread probe = new Thread(() -> {});
    try {
      Runtime.getRuntime().addShutdownHook(probe);
      Runtime.getRuntime().removeShutdownHook(probe);
      return false;
    } catch (IllegalStateException shutdownInProgress) {
      return true;
    }
  }

  /** A module's Maven-resolved runtime classpath ({@code <module>/target/classpath.txt}). */
  static String classpath(Path home, String module) throws IOException {
    Path file = home.resolve(module).resolve("target/classpath.txt");
    if (!Files.isRegularFile(file)) {
      throw new IOException("missing " + file + ": build first (./mvnw -DskipTests package)");
    }
    return Files.readString(file).strip();
  }

  /** The java of this JVM, for the stack's own JVMs. */
  static String java() {
    return ProcessHandle.current().info().command().orElse("java");
  }
}
