package dev.tally.jobs.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.cli.TallyCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User mistakes get one clear line and exit code 2, never a stack trace. */
class ReplayCommandTest {
  @TempDir Path tmp;

  private record Run(int exit, String err) {}

  private Run run(String... args) {
    PrintStream original = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      return new Run(TallyCli.execute(args), err.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(original);
    }
  }

  @Test
  void shouldRejectABreakdownWithoutEventOrPersonPrefix() throws Exception {
    Path input = Files.writeString(tmp.resolve("in.jsonl"), "");
    Run r =
        run(
            "replay",
            "--input",
            input.toString(),
            "--out",
            tmp.resolve("o").toString(),
            "--breakdown",
            "plan");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("--breakdown 'plan' must start with 'event:' or 'person:'")
        .doesNotContain("Exception");
  }

  @Test
  void shouldRejectAMalformedDuration() throws Exception {
    Path input = Files.writeString(tmp.resolve("in.jsonl"), "");
    Run r =
        run(
            "replay",
            "--input",
            input.toString(),
            "--out",
            tmp.resolve("o").toString(),
            "--allowed-lateness",
            "5 minutes");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("'5 minutes' is not a duration").doesNotContain("\tat ");
  }

  @Test
  void shouldRejectAnUnreadableInput() {
    Run r =
        run(
            "replay",
            "--input",
            tmp.resolve("missing.jsonl").toString(),
            "--out",
            tmp.resolve("o").toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("cannot read input file").doesNotContain("\tat ");
  }

  @Test
  void shouldWriteAllFilesForAnEmptyInput() throws Exception {
    Path input = Files.writeString(tmp.resolve("in.jsonl"), "");
    Path out = tmp.resolve("o");
    Run r = run("replay", "--input", input.toString(), "--out", out.toString());
    assertThat(r.exit()).isZero();
    assertThat(Files.readString(out.resolve("ledger.csv")))
        .isEqualTo("project,hour,consumed,aggregated,duplicates,too_late,dead_lettered\n");
    assertThat(Files.readString(out.resolve("enriched.jsonl"))).isEmpty();
    assertThat(Files.readString(out.resolve("persons.jsonl"))).isEmpty();
  }

  @Test
  void shouldTreatABlankLineAndAMissingFinalNewlineAsTheContractSays() throws Exception {
    String valid =
        "{\"uuid\":\"5f0c6a3e-2b1d-4c9e-9a51-0d2f3b7c8e11\",\"project\":\"acme\",\"event\":\"e\",\"distinct_id\":\"u\",\"timestamp\":\"2026-11-23T10:00:01.123Z\"}";
    Path input = Files.writeString(tmp.resolve("in.jsonl"), "\n" + valid);
    Path out = tmp.resolve("o");
    assertThat(run("replay", "--input", input.toString(), "--out", out.toString()).exit()).isZero();
    assertThat(Files.readString(out.resolve("dead_letter.jsonl")))
        .isEqualTo("{\"reason\":\"malformed\",\"payload\":\"\"}\n");
    assertThat(Files.readString(out.resolve("event_counts.csv")))
        .contains("acme,minute,2026-11-23T10:00:00Z,e,1,1");
  }
}
