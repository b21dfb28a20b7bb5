package dev.tally.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.cli.TallyCli;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code tally replay} reproduces the golden scenarios (copies of shared/fixtures, produced by a
 * separate reference implementation of SEMANTICS.md) exactly, through the real command line.
 */
class GoldenReplayTest {
  @TempDir Path out;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"basic", "late", "invalid", "identify", "unicode"})
  void shouldReproduceGoldenScenario(String scenario) throws Exception {
    Path fixture = fixture(scenario);
    List<String> args =
        new ArrayList<>(
            List.of(
                "replay",
                "--input",
                fixture.resolve("events.jsonl").toString(),
                "--out",
                out.toString()));
    for (String token : Files.readAllLines(fixture.resolve("args.txt"))) {
      if (!token.isBlank()) {
        args.add(token);
      }
    }
    int exit = TallyCli.execute(args.toArray(String[]::new));

    assertThat(exit).isZero();
    assertThat(GoldenComparison.compare(fixture.resolve("expected"), out)).isEmpty();
  }

  @org.junit.jupiter.api.Test
  void shouldReportAMismatchWhenTheOutputDiffers() throws Exception {
    Path fixture = fixture("basic");
    // Without the fixture's breakdowns, breakdown_counts.csv must come out different.
    int exit =
        TallyCli.execute(
            "replay",
            "--input",
            fixture.resolve("events.jsonl").toString(),
            "--out",
            out.toString());

    assertThat(exit).isZero();
    assertThat(GoldenComparison.compare(fixture.resolve("expected"), out))
        .singleElement()
        .asString()
        .startsWith("breakdown_counts.csv");
  }

  static Path fixture(String scenario) throws URISyntaxException {
    return Path.of(GoldenReplayTest.class.getResource("/golden/" + scenario).toURI());
  }
}
