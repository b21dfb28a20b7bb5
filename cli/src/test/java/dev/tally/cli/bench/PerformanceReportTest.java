package dev.tally.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerformanceReportTest {
  @TempDir Path tmp;

  private static final List<Bench.Row> ROWS =
      List.of(
          new Bench.Row("1. ceiling", "100 events/s", "", null),
          new Bench.Row("   pipeline / ceiling", "0.40", "≥ 0.50", false));

  @Test
  void shouldReplaceOnlyTheGeneratedSectionAndKeepTheFindings() throws Exception {
    Path file = tmp.resolve("performance.md");
    Files.writeString(
        file,
        "# Performance\n\nintro\n\n"
            + PerformanceReport.BEGIN
            + "\nold table\n"
            + PerformanceReport.END
            + "\n\n## Findings\nkept\n");

    PerformanceReport.write(
        file, PerformanceReport.markdown(ROWS, Bench.Plan.quick(Set.of("ceiling")), true));

    String text = Files.readString(file);
    assertThat(text).doesNotContain("old table").contains("intro").endsWith("## Findings\nkept\n");
    assertThat(text)
        .contains("| pipeline / ceiling | 0.40 | ≥ 0.50 | **no** |")
        .contains("| 1. ceiling | 100 events/s |  |  |")
        .contains(Runtime.getRuntime().availableProcessors() + " cores");
  }

  @Test
  void shouldCreateTheReportWhenItDoesNotExist() throws Exception {
    Path file = tmp.resolve("new.md");
    PerformanceReport.write(file, "table\n");
    assertThat(Files.readString(file))
        .startsWith("# Performance")
        .contains(PerformanceReport.BEGIN + "\ntable\n" + PerformanceReport.END);
  }

  @Test
  void shouldTakeTheNearestRankPercentile() {
    List<Double> sorted = List.of(1.0, 2.0, 3.0, 4.0);
    assertThat(Bench.percentile(sorted, 0.5)).isEqualTo(2.0);
    assertThat(Bench.percentile(sorted, 0.99)).isEqualTo(4.0);
    assertThat(Bench.percentile(List.of(), 0.5)).isNaN();
  }
}
