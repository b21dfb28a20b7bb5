package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard page during a real demo, as a user meets it: {@code ./tally demo --events N} on its
 * own local stack (a Kafka broker, PostgreSQL and a Flink session cluster, each in its own process,
 * on ports of its own), the page's address read from the demo's {@code dashboard} line, loaded in
 * headless Chromium while the demo runs. The numbers move while it loads, so what is compared is
 * what can no longer move: every minute the page drew as final (by the {@code final_through} read
 * in the same statement as its bars) must equal the analyst view's row, and every final minute of
 * the view up to that stamp must be drawn. The demo itself must still end with every event
 * accounted for (exit 0).
 */
class DemoDashboardIT {
  @TempDir Path tmp;

  @Test
  void duringADemoThePageShowsTheFinalMinutesExactlyAsTheViewsHaveThem() throws Exception {
    Path chromium = DashboardBrowserIT.chromium();
    assumeTrue(chromium != null, "no chromium on this machine (.ci/run installs Debian's)");
    Path stack = tmp.resolve("stack");
    Path tally = Path.of("..", "tally").toAbsolutePath().normalize();
    Process demo =
        new ProcessBuilder(
                tally.toString(),
                "demo",
                "--events",
                "20000",
                "--dashboard-port",
                "0",
                "--dir",
                stack.toString(),
                "--kafka-port",
                "29092",
                "--postgres-port",
                "25432",
                "--flink-port",
                "28081",
                "--flink-rpc-port",
                "26123",
                "--capture-port",
                "28000")
            .redirectErrorStream(true)
            .start();
    List<String> output = new ArrayList<>();
    CompletableFuture<String> url = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(demo.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  synchronized (output) {
                    output.add(line);
                  }
                  Matcher m = Pattern.compile("^dashboard  (http://\\S+/)$").matcher(line);
                  if (m.find()) {
                    url.complete(m.group(1));
                  }
                }
              } catch (Exception e) {
                url.completeExceptionally(e);
              }
              url.completeExceptionally(new AssertionError("the demo printed no dashboard line"));
            });
    reader.start();
    try {
      String page = url.get(240, TimeUnit.SECONDS);
      // the demo prints the address before its traffic: load the page until it shows final minutes
      String dom;
      Map<String, String> shownFinal = new TreeMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
      boolean refreshed;
      do {
        dom = DashboardBrowserIT.run(chromium, tmp, "--dump-dom", page);
        assertThat(dom).as("the page rendered its data").contains("data-ready=\"true\"");
        refreshed = dom.contains("id=\"banner\" class=\"banner\" hidden");
        shownFinal.clear();
        DashboardBrowserIT.bars(dom)
            .forEach(
                (k, v) -> {
                  if (v.endsWith("/final")) {
                    shownFinal.put(k, v);
                  }
                });
      } while ((shownFinal.isEmpty() || !refreshed)
          && demo.isAlive()
          && System.nanoTime() < deadline);
      assertThat(refreshed)
          .as("a page load whose every refresh succeeded, while the demo ran")
          .isTrue();
      Instant from = Instant.parse(attribute(dom, "data-minutes-from"));
      String finalThrough = attribute(dom, "data-final-through");
      Map<String, String> viewFinal =
          finalMinutes(stack, from, finalThrough.isEmpty() ? null : Instant.parse(finalThrough));
      assertThat(viewFinal)
          .as("minutes already final when the page loaded (the demo's events span 30 minutes)")
          .isNotEmpty();
      assertThat(shownFinal)
          .as("every final bar equals analytics.event_counts, and every final minute is drawn")
          .isEqualTo(viewFinal);
    } finally {
      boolean ended = demo.waitFor(300, TimeUnit.SECONDS);
      if (!ended) {
        demo.destroy();
        demo.waitFor(60, TimeUnit.SECONDS);
      }
      reader.join(10_000);
      synchronized (output) {
        assertThat(ended).as(String.join("\n", output)).isTrue();
        assertThat(demo.exitValue()).as(String.join("\n", output)).isZero();
        assertThat(output).anyMatch(l -> l.contains("✓ every event accounted for exactly once"));
      }
    }
  }

  private static String attribute(String dom, String name) {
    Matcher m = Pattern.compile(name + "=\"([^\"]*)\"").matcher(dom);
    assertThat(m.find()).as(name).isTrue();
    return m.group(1);
  }

  /** The view's final minute rows from {@code from} whose window ends by {@code finalThrough}. */
  private static Map<String, String> finalMinutes(Path stack, Instant from, Instant finalThrough)
      throws Exception {
    Map<String, String> rows = new TreeMap<>();
    if (finalThrough == null) {
      return rows;
    }
    String password =
        Files.readString(stack.resolve("secrets").resolve("pg-analyst-password")).strip();
    try (Connection c =
            DriverManager.getConnection(
                "jdbc:postgresql://localhost:25432/tally", "tally_reader", password);
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT project, event, window_start, events, persons FROM analytics.event_counts"
                    + " WHERE grain = 'minute' AND window_start >= ? AND window_end <= ?")) {
      ps.setTimestamp(1, Timestamp.from(from));
      ps.setTimestamp(2, Timestamp.from(finalThrough));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.put(
              DashboardBrowserIT.minuteKey(rs), rs.getLong(4) + "/" + rs.getLong(5) + "/final");
        }
      }
    }
    return rows;
  }
}
