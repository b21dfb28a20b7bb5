package dev.tally.cli;

import dev.tally.jobs.replay.Replay;
import dev.tally.operators.PipelineSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Run the Tally topology over a JSON Lines file, deterministically (parallelism 1), and",
      "write enriched.jsonl, dead_letter.jsonl, late.jsonl, persons.jsonl, event_counts.csv,",
      "breakdown_counts.csv and ledger.csv to the output folder (SEMANTICS.md §10)."
    })
public final class ReplayCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--input", required = true, paramLabel = "FILE", description = "JSON Lines input")
  Path input;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder")
  Path out;

  @Option(
      names = "--max-out-of-orderness",
      defaultValue = "10s",
      converter = Durations.class,
      paramLabel = "DURATION",
      description = "watermark = max event time − this (default: ${DEFAULT-VALUE})")
  Duration maxOutOfOrderness;

  @Option(
      names = "--allowed-lateness",
      defaultValue = "5m",
      converter = Durations.class,
      paramLabel = "DURATION",
      description =
          "how long after its end a minute window accepts events (default: ${DEFAULT-VALUE})")
  Duration allowedLateness;

  @Option(
      names = "--breakdown",
      paramLabel = "SPEC",
      description = "event:<prop> or person:<prop>; repeatable")
  List<String> breakdowns = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    for (String b : breakdowns) {
      if (!PipelineSettings.isValidBreakdown(b)) {
        throw new ParameterException(
            spec.commandLine(),
            "--breakdown '"
                + b
                + "' must start with 'event:' or 'person:' (e.g. event:$browser), be at most "
                + PipelineSettings.MAX_BREAKDOWN_SPEC
                + " characters and not contain U+0000");
      }
    }
    if (!Files.isRegularFile(input) || !Files.isReadable(input)) {
      throw new ParameterException(spec.commandLine(), "cannot read input file " + input);
    }
    if (Files.exists(out) && !Files.isDirectory(out)) {
      throw new ParameterException(spec.commandLine(), "--out " + out + " is not a folder");
    }
    PipelineSettings settings =
        new PipelineSettings(
            maxOutOfOrderness,
            allowedLateness,
            breakdowns,
            null,
            null,
            PipelineSettings.Mode.REPLAY);
    Replay.run(input, out, settings);
    return 0;
  }
}
