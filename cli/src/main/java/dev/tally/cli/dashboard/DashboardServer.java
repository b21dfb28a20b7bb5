package dev.tally.cli.dashboard;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.tally.operators.json.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The live dashboard (docs/dashboard.md): a page and its JSON endpoints over the read-only analyst
 * login, served by the JDK's HTTP server on the loopback interface. While it runs it samples the
 * freshness every {@link #SAMPLE_EVERY}, so the page can draw how {@code complete_through} and
 * {@code final_through} moved against the wall clock, stalls and recoveries included.
 */
public final class DashboardServer implements AutoCloseable {
  static final Duration SAMPLE_EVERY = Duration.ofSeconds(2);
  static final int MAX_SAMPLES = 1800; // an hour at one sample every two seconds
  static final Duration DEAD_LETTERS_FOR = Duration.ofSeconds(5);

  private static final Map<String, String> ASSETS =
      Map.of(
          "/", "index.html",
          "/index.html", "index.html",
          "/dashboard.js", "dashboard.js",
          "/dashboard.css", "dashboard.css");

  /** Where dead letters are read from; null: the page shows only their number per hour. */
  public record Kafka(String bootstrapServers, String deadLetterTopic) {}

  private final Callable<Connection> analyst;
  private final Kafka kafka;
  private final HttpServer server;
  private final ScheduledExecutorService sampler;
  private final ArrayDeque<Map<String, Object>> samples = new ArrayDeque<>();

  private DashboardServer(Callable<Connection> analyst, Kafka kafka, HttpServer server) {
    this.analyst = analyst;
    this.kafka = kafka;
    this.server = server;
    this.sampler = Executors.newSingleThreadScheduledExecutor(daemon("tally-dashboard-sampler"));
  }

  /**
   * Starts serving on {@code 127.0.0.1:port} (0: any free port).
   *
   * @param analyst opens a connection as the analyst login (never the writer or a superuser)
   */
  public static DashboardServer start(Callable<Connection> analyst, Kafka kafka, int port)
      throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 16);
    DashboardServer d = new DashboardServer(analyst, kafka, http);
    http.createContext("/", d::handle);
    http.setExecutor(Executors.newFixedThreadPool(4, daemon("tally-dashboard-http")));
    http.start();
    d.sampler.scheduleWithFixedDelay(d::sample, 0, SAMPLE_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    return d;
  }

  /** The page's threads never keep a JVM alive on their own. */
  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** The page's address, e.g. {@code http://localhost:18090/}. */
  public String url() {
    return "http://localhost:" + server.getAddress().getPort() + "/";
  }

  private void sample() {
    try (Connection c = analyst.call()) {
      Map<String, Object> f = DashboardData.freshness(c);
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("at", f.get("wall_clock"));
      s.put("complete_through", f.get("complete_through"));
      s.put("final_through", f.get("final_through"));
      s.put("staleness_seconds", f.get("staleness_seconds"));
      synchronized (samples) {
        samples.addLast(s);
        while (samples.size() > MAX_SAMPLES) {
          samples.removeFirst();
        }
      }
    } catch (Exception e) {
      // the database is down: a gap in the samples is what the page should show
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!"GET".equals(exchange.getRequestMethod())
          && !"HEAD".equals(exchange.getRequestMethod())) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "application/json", error("only GET is served"));
        return;
      }
      URI uri = exchange.getRequestURI();
      String path = uri.getPath();
      String asset = ASSETS.get(path);
      if (asset != null) {
        asset(exchange, asset);
        return;
      }
      Map<String, String> query = query(uri.getRawQuery());
      Object body;
      try {
        body =
            switch (path) {
              case "/api/minutes" -> {
                int minutes = intParam(query, "minutes", 60, 1, 24 * 60);
                try (Connection c = analyst.call()) {
                  yield DashboardData.minutes(c, Instant.now(), minutes);
                }
              }
              case "/api/freshness" -> freshness();
              case "/api/ledger" -> {
                int hours = intParam(query, "hours", 24, 1, 24 * 31);
                try (Connection c = analyst.call()) {
                  yield DashboardData.ledger(c, hours);
                }
              }
              case "/api/dead-letters" -> deadLetters(intParam(query, "limit", 20, 1, 200));
              default -> null;
            };
      } catch (BadRequest e) {
        send(exchange, 400, "application/json", error(e.getMessage()));
        return;
      } catch (Exception e) {
        send(exchange, 503, "application/json", error("cannot read the analyst views: " + e));
        return;
      }
      if (body == null) {
        send(exchange, 404, "application/json", error("no such page: " + path));
        return;
      }
      send(exchange, 200, "application/json", Json.write(body));
    }
  }

  private Map<String, Object> freshness() throws Exception {
    Map<String, Object> now;
    try (Connection c = analyst.call()) {
      now = DashboardData.freshness(c);
    }
    List<Object> history;
    synchronized (samples) {
      history = new ArrayList<>(samples);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("now", now);
    out.put("sample_every_seconds", SAMPLE_EVERY.toSeconds());
    out.put("samples", history);
    return out;
  }

  private Map<String, Object> deadLetters(int limit) throws Exception {
    if (kafka == null) { // nothing to read: answer without the database
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("newest", List.of());
      out.put("reasons", Map.of());
      out.put("unavailable", "no Kafka configured: dead letters are counted in the ledger only");
      return out;
    }
    // one read of the topic serves every page for a few seconds: each read opens a consumer
    synchronized (deadLetters) {
      if (deadLetters.value != null
          && deadLetters.limit == limit
          && System.nanoTime() - deadLetters.at < DEAD_LETTERS_FOR.toNanos()) {
        return deadLetters.value;
      }
      String generation;
      try (Connection c = analyst.call()) {
        generation = (String) DashboardData.freshness(c).get("generation");
      }
      deadLetters.value =
          DeadLetters.newest(kafka.bootstrapServers(), kafka.deadLetterTopic(), generation, limit);
      deadLetters.limit = limit;
      deadLetters.at = System.nanoTime();
      return deadLetters.value;
    }
  }

  /** The newest dead letters as last read, for {@link #DEAD_LETTERS_FOR}. */
  private static final class Cached {
    Map<String, Object> value;
    int limit;
    long at;
  }

  private final Cached deadLetters = new Cached();

  private static void asset(HttpExchange exchange, String name) throws IOException {
    try (InputStream in = DashboardServer.class.getResourceAsStream("assets/" + name)) {
      if (in == null) {
        send(exchange, 404, "application/json", error("asset missing from the jar: " + name));
        return;
      }
      String type =
          name.endsWith(".html")
              ? "text/html"
              : name.endsWith(".js") ? "text/javascript" : "text/css";
      send(exchange, 200, type, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  private static void send(HttpExchange exchange, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    var h = exchange.getResponseHeaders();
    h.set("Content-Type", type + "; charset=utf-8");
    h.set("Cache-Control", "no-store");
    h.set("X-Content-Type-Options", "nosniff");
    // everything is served from here: no CDN, no inline script
    h.set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:");
    boolean head = "HEAD".equals(exchange.getRequestMethod());
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  private static String error(String message) {
    Map<String, Object> e = new LinkedHashMap<>();
    e.put("error", message);
    return Json.write(e);
  }

  private static final class BadRequest extends Exception {
    BadRequest(String message) {
      super(message);
    }
  }

  private static int intParam(Map<String, String> query, String name, int def, int min, int max)
      throws BadRequest {
    String v = query.get(name);
    if (v == null) {
      return def;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new BadRequest(name + " must be a whole number from " + min + " to " + max);
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> q = new HashMap<>();
    if (raw == null || raw.isEmpty()) {
      return q;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      q.put(
          URLDecoder.decode(k, StandardCharsets.UTF_8),
          URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return q;
  }

  @Override
  public void close() {
    sampler.shutdownNow();
    server.stop(0);
    ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
  }
}
