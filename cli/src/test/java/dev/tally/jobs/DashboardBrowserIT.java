package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tally.cli.dashboard.DashboardServer;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.savepoints.JobSubmission;
import dev.tally.sinks.PostgresForTests;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;

/**
 * The dashboard page in a real browser (headless Chromium, Debian's {@code chromium}; `.ci/run`
 * installs it, the test skips only where it is missing): the real job counts generated traffic into
 * PostgreSQL, the dashboard serves the page as the analyst login, Chromium loads it, runs its
 * script and fetches, and every bar it drew must carry exactly the numbers and the open / complete
 * / final state of {@code analytics.event_counts} — and the ledger line exactly {@code
 * analytics.ledger}'s. It saves the screenshot the README shows (docs/images/dashboard.png).
 */
class DashboardBrowserIT extends EndToEndTest {
  private static final Pattern CHART =
      Pattern.compile(
          "<svg[^>]*data-project=\"([^\"]*)\" data-event=\"([^\"]*)\"[^>]*>(.*?)</svg>",
          Pattern.DOTALL);
  private static final Pattern BAR =
      Pattern.compile(
          "<rect [^>]*data-minute=\"([^\"]*)\" data-events=\"(\\d+)\" data-persons=\"(\\d+)\""
              + " data-state=\"(open|complete|final)\"");

  @Test
  void theBrowserShowsPerMinuteExactlyWhatAnalystsReadFromTheViews() throws Exception {
    kafka.createTopic("raw_dash", 2);
    kafka.createTopic("enriched_dash", 2);
    kafka.createTopic("dlq_dash", 1);
    kafka.createTopic("late_dash", 1);
    // 40 minutes of event time up to now: the last hour's chart has final, complete and open bars
    List<GeneratedEvent> sent =
        new TrafficGenerator(3, Instant.now().minus(Duration.ofMinutes(40)), 1.0, 30).next(2400);
    kafka.produce("raw_dash", sent.stream().map(e -> new byte[][] {e.key(), e.avro()}).toList());
    Configuration config = kafka.jobConfig("dash", "dash", postgres, tmp.resolve("pw-dash"));
    config.setString("tally.source.idleness", "2s");
    try (Connection c = postgres.admin()) {
      JobSubmission.activateGeneration(c, "dash", List.of());
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(config);
    IngestionJob.build(env, config);
    JobClient job = env.executeAsync("tally-ingestion-dash");
    awaitAccounted("dash", sent.size(), Duration.ofSeconds(120));
    job.cancel().get(30, TimeUnit.SECONDS); // the numbers hold still while the browser reads them

    theGrafanaDashboardsQueriesRunAsTheAnalystOnTheRealViews();
    Path chromium = chromium();
    assumeTrue(chromium != null, "no chromium on this machine (.ci/run installs Debian's)");

    try (DashboardServer server =
        DashboardServer.start(
            () -> postgres.as(PostgresForTests.ANALYST_USER),
            new DashboardServer.Kafka(kafka.bootstrapServers(), "dlq_dash"),
            0)) {
      String dom = run(chromium, "--dump-dom", server.url());
      assertThat(dom).as("the page rendered its data").contains("data-ready=\"true\"");
      Matcher from = Pattern.compile("data-minutes-from=\"([^\"]+)\"").matcher(dom);
      assertThat(from.find()).isTrue();
      Instant windowFrom = Instant.parse(from.group(1));

      Map<String, String> shown = bars(dom);
      Map<String, String> views = analystMinutes(windowFrom);
      assertThat(views).as("the views have minute rows to show").hasSizeGreaterThan(50);
      assertThat(views.values())
          .as("the traffic spans final, complete and open minutes")
          .anyMatch(v -> v.endsWith("/final"))
          .anyMatch(v -> v.endsWith("/open"));
      assertThat(shown)
          .as("every bar: events / distinct persons / state, as analytics.event_counts has it")
          .isEqualTo(views);

      long consumed = postgres.queryLong("SELECT sum(consumed) FROM analytics.ledger");
      assertThat(consumed).isEqualTo(sent.size());
      assertThat(dom)
          .as("the ledger's total row")
          .containsPattern(
              "data-balanced=\"true\"><td>all hours</td><td data-field=\"consumed\">"
                  + String.format("%,d", consumed));
      assertThat(dom).contains("✓ balanced");

      Path png = Path.of("..", "docs", "images", "dashboard.png").toAbsolutePath().normalize();
      Files.createDirectories(png.getParent());
      run(chromium, "--screenshot=" + png, "--window-size=1400,1900", server.url());
      assertThat(Files.size(png)).as("a screenshot of the page").isGreaterThan(20_000);
    }
  }

  /**
   * docs/grafana/tally-dashboard.json: each panel's SQL, with Grafana's time filter macro for the
   * last two hours, runs as the analyst login; the panels that chart events add up to the views'.
   */
  private static void theGrafanaDashboardsQueriesRunAsTheAnalystOnTheRealViews() throws Exception {
    String json =
        Files.readString(Path.of("..", "docs", "grafana", "tally-dashboard.json").toAbsolutePath());
    List<String> sqls = new ArrayList<>();
    Matcher m = Pattern.compile("\"rawSql\": \"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
    while (m.find()) {
      sqls.add(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
    }
    assertThat(sqls).hasSize(7);
    long viewEvents =
        postgres.queryLong("SELECT sum(events) FROM analytics.event_counts WHERE grain = 'minute'");
    try (Connection c = postgres.as(PostgresForTests.ANALYST_USER)) {
      for (String sql : sqls) {
        String runnable =
            sql.replaceAll(
                "\\$__timeFilter\\((\\w+)\\)",
                "($1 >= now() - interval '2 hours' AND $1 < now() + interval '1 hour')");
        try (PreparedStatement ps = c.prepareStatement(runnable);
            ResultSet rs = ps.executeQuery()) {
          long rows = 0;
          long events = 0;
          while (rs.next()) {
            rows++;
            if (sql.contains("AS metric, events")) {
              events += rs.getLong("events");
            } else if (sql.contains("AS final")) {
              events += rs.getLong("final") + rs.getLong("complete") + rs.getLong("open");
            }
          }
          if (!sql.contains("ingestion_warnings")) {
            assertThat(rows).as(runnable).isPositive();
          }
          if (sql.contains("AS metric, events") || sql.contains("AS final")) {
            assertThat(events)
                .as("the panel's events add up to the view's: " + sql)
                .isEqualTo(viewEvents);
          }
        }
      }
    }
  }

  /** analytics.event_counts' minute rows from {@code from} on, as the page keys them. */
  private static Map<String, String> analystMinutes(Instant from) throws Exception {
    Map<String, String> rows = new TreeMap<>();
    try (Connection c = postgres.as(PostgresForTests.ANALYST_USER);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT project, event, window_start, events, persons, is_complete, is_final"
                    + " FROM analytics.event_counts WHERE grain = 'minute' AND window_start >= ?")) {
      ps.setTimestamp(1, Timestamp.from(from));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String state = rs.getBoolean(7) ? "final" : rs.getBoolean(6) ? "complete" : "open";
          rows.put(minuteKey(rs), rs.getLong(4) + "/" + rs.getLong(5) + "/" + state);
        }
      }
    }
    return rows;
  }

  /** Every bar the page drew: {@code project|event|minute} → {@code events/persons/state}. */
  static Map<String, String> bars(String dom) {
    Map<String, String> shown = new TreeMap<>();
    Matcher chart = CHART.matcher(dom);
    while (chart.find()) {
      Matcher bar = BAR.matcher(chart.group(3));
      while (bar.find()) {
        shown.put(
            unescape(chart.group(1)) + "|" + unescape(chart.group(2)) + "|" + bar.group(1),
            bar.group(2) + "/" + bar.group(3) + "/" + bar.group(4));
      }
    }
    return shown;
  }

  private static String run(Path chromium, String what, String... rest) throws Exception {
    return run(chromium, tmp, what, rest);
  }

  /** A view row's key as {@link #bars} keys a bar: columns project, event, window_start. */
  static String minuteKey(ResultSet rs) throws java.sql.SQLException {
    return rs.getString(1)
        + "|"
        + rs.getString(2)
        + "|"
        + rs.getObject(3, java.time.OffsetDateTime.class).toInstant();
  }

  /** Runs headless Chromium on {@code url}; returns what it printed. */
  static String run(Path chromium, Path tmp, String what, String... rest) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(chromium.toString());
    cmd.addAll(
        List.of(
            "--headless=new",
            "--no-sandbox", // CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--user-data-dir=" + Files.createTempDirectory(tmp, "chromium"),
            "--virtual-time-budget=8000",
            what));
    cmd.addAll(List.of(rest));
    Path outFile = Files.createTempFile(tmp, "chromium", ".out");
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(outFile.toFile())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!p.waitFor(90, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("chromium did not finish within 90 s: " + cmd);
    }
    return Files.readString(outFile, StandardCharsets.UTF_8);
  }

  /** Debian's chromium (or {@code TALLY_CHROMIUM}), or null where there is none. */
  static Path chromium() {
    String configured = System.getenv("TALLY_CHROMIUM");
    for (String candidate :
        configured != null
            ? List.of(configured)
            : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
      Path p = Path.of(candidate);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static String unescape(String html) {
    return html.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
  }
}
