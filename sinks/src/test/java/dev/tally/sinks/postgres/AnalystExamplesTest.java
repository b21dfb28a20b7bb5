package dev.tally.sinks.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.sinks.PostgresForTests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The queries of sql/examples, run as the analyst login against a database populated like a running
 * generation: complete_through 10 minutes ago, allowed lateness 5 minutes.
 */
class AnalystExamplesTest {
  private static final Path EXAMPLES = Path.of("..", "sql", "examples");
  private static PostgresForTests db;

  @BeforeAll
  static void populate() throws Exception {
    db = PostgresForTests.start();
    try (Connection c = db.admin();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO tally.generations (generation, max_out_of_orderness_ms, allowed_lateness_ms) VALUES ('ex', 10000, 300000)");
      s.execute("INSERT INTO tally.active_generation (generation) VALUES ('ex')");
      s.execute(
          "INSERT INTO tally.sink_commits (generation, sink_id, subtask, checkpoint, gid, parallelism, watermark_ms, row_count)"
              + " VALUES ('ex', 'aggregates', 0, 1, 'tally_ex_aggregates_0_1', 1,"
              + " (extract(epoch FROM now() - interval '10 minutes') * 1000)::bigint, 0)");
      // signup: 3 hours ago (final, two revisions), and the current hour (open)
      s.execute(
          "INSERT INTO tally.event_counts (generation, project, grain, window_start, event, revision, events, persons) VALUES"
              + " ('ex', 'acme', 'hour', date_trunc('hour', now()) - interval '3 hours', 'signup', 1, 4, 3),"
              + " ('ex', 'acme', 'hour', date_trunc('hour', now()) - interval '3 hours', 'signup', 2, 5, 4),"
              + " ('ex', 'acme', 'hour', date_trunc('hour', now()), 'signup', 1, 2, 2),"
              + " ('ex', 'globex', 'hour', date_trunc('hour', now()) - interval '3 hours', 'signup', 1, 9, 9)");
      s.execute(
          "INSERT INTO tally.breakdown_counts (generation, project, window_start, event, property, value, revision, events, persons) VALUES"
              + " ('ex', 'acme', date_trunc('hour', now()) - interval '3 hours', '$pageview', 'person:plan', 'pro', 1, 7, 2),"
              + " ('ex', 'acme', date_trunc('hour', now()) - interval '3 hours', '$pageview', 'person:plan', '(none)', 1, 3, 3),"
              + " ('ex', 'acme', date_trunc('hour', now()) - interval '3 hours', '$pageview', 'event:$browser', 'Chrome', 1, 10, 5)");
      s.execute(
          "INSERT INTO tally.daily_active (generation, project, day, revision, events, persons) VALUES"
              + " ('ex', 'acme', current_date - 2, 1, 100, 40),"
              + " ('ex', 'acme', current_date, 1, 10, 7),"
              + " ('ex', 'acme', current_date - 9, 1, 1, 1)");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    db.close();
  }

  private static List<List<String>> run(String example) throws Exception {
    String sql = Files.readString(EXAMPLES.resolve(example));
    List<List<String>> rows = new ArrayList<>();
    try (Connection c = db.as(PostgresForTests.ANALYST_USER);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> row = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
          row.add(rs.getString(i));
        }
        rows.add(row);
      }
    }
    return rows;
  }

  @Test
  void shouldShowDailyActivePersonsOfTheLastWeekWithCompleteness() throws Exception {
    List<List<String>> rows = run("daily_active_persons_last_week.sql");
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).subList(1, 5)).containsExactly("40", "100", "t", "t");
    assertThat(rows.get(1).subList(1, 5)).containsExactly("7", "10", "f", "f");
  }

  @Test
  void shouldShowTheHourlyTrendWithTheNewestRevisionAndFreshness() throws Exception {
    List<List<String>> rows = run("hourly_trend.sql");
    assertThat(rows).hasSize(2);
    assertThat(rows.get(0).subList(1, 5)).containsExactly("5", "4", "t", "t");
    assertThat(rows.get(1).subList(1, 5)).containsExactly("2", "2", "f", "f");
    assertThat(rows.get(0).get(5)).isNotNull(); // as_of
  }

  @Test
  void shouldBreakPageviewsDownByPersonPlan() throws Exception {
    List<List<String>> rows = run("breakdown_by_person_plan.sql");
    assertThat(rows)
        .extracting(r -> r.get(1) + "=" + r.get(2) + "/" + r.get(3) + " final=" + r.get(4))
        .containsExactly("pro=7/2 final=t", "(none)=3/3 final=t");
  }

  @Test
  void shouldStampFreshness() throws Exception {
    List<List<String>> rows = run("freshness.sql");
    assertThat(rows).hasSize(1);
    assertThat(rows.get(0).get(0)).isEqualTo("ex");
    assertThat(Double.parseDouble(rows.get(0).get(3)))
        .isBetween(599.0, 700.0); // staleness ≈ 10 min
  }

  @Test
  void shouldRunEveryExampleAsTheAnalyst() throws Exception {
    try (var files = Files.list(EXAMPLES)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".sql")).toList()) {
        run(f.getFileName().toString()); // no permission errors, valid SQL
      }
    }
  }
}
