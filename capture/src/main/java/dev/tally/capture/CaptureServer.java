package dev.tally.capture;

import java.time.Clock;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The capture endpoint: Jetty 12's core handlers (no servlet layer), answering asynchronously — a
 * request holds no thread while its events wait for Kafka's acknowledgement.
 */
public final class CaptureServer implements AutoCloseable {
  private final Server server;
  private final ServerConnector connector;
  private final CaptureMetrics metrics = new CaptureMetrics();

  static final long STOP_TIMEOUT_MILLIS = 10_000;

  private CaptureServer(
      String host, int port, TokenMap tokens, EventSink sink, Clock clock, long maxInFlightBytes) {
    QueuedThreadPool threads = new QueuedThreadPool(64, 4);
    threads.setName("capture");
    server = new Server(threads);
    connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    // On stop the connector closes first (new connections are refused, so SDKs retry elsewhere or
    // later); GracefulHandler then waits up to the stop timeout for the requests already read to
    // get their answer — their events may be in Kafka's hands, and a cut connection would make the
    // SDK send them again (harmless, dedup by uuid, but avoidable). Longer than the producer's
    // delivery timeout (8 s), so every held request ends with Kafka's own verdict.
    GracefulHandler graceful = new GracefulHandler();
    graceful.setHandler(
        new CaptureHandler(tokens, sink, metrics, clock, threads, maxInFlightBytes));
    server.setHandler(graceful);
    server.setStopTimeout(STOP_TIMEOUT_MILLIS);
  }

  /** Starts serving on {@code host:port} (port 0: any free one). */
  public static CaptureServer start(String host, int port, TokenMap tokens, EventSink sink)
      throws Exception {
    return start(host, port, tokens, sink, Clock.systemUTC());
  }

  static CaptureServer start(String host, int port, TokenMap tokens, EventSink sink, Clock clock)
      throws Exception {
    return start(host, port, tokens, sink, clock, CaptureHandler.MAX_IN_FLIGHT_BYTES);
  }

  static CaptureServer start(
      String host, int port, TokenMap tokens, EventSink sink, Clock clock, long maxInFlightBytes)
      throws Exception {
    CaptureServer s = new CaptureServer(host, port, tokens, sink, clock, maxInFlightBytes);
    s.server.start();
    return s;
  }

  public int port() {
    return connector.getLocalPort();
  }

  public CaptureMetrics metrics() {
    return metrics;
  }

  /**
   * On JVM shutdown (Ctrl-C, SIGTERM of a pod): stop serving — in-flight requests get their answer
   * first — then run {@code after} (close the sink).
   */
  public void closeOnShutdown(Runnable after) {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try {
                    close();
                  } catch (Exception ignored) {
                    // stopping anyway
                  }
                  after.run();
                },
                "capture-shutdown"));
  }

  public void join() throws InterruptedException {
    server.join();
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
