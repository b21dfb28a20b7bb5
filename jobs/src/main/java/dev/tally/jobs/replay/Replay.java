package dev.tally.jobs.replay;

import dev.tally.jobs.TallyTopology;
import dev.tally.operators.PipelineSettings;
import dev.tally.operators.functions.ValidEventWatermarks;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.ParsedRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * {@code tally replay}: the streaming topology, bounded, over a JSON Lines file, at parallelism 1
 * with a watermark after every record, so the result is deterministic (SEMANTICS.md §10). Runs on
 * an in-process Flink mini cluster; dedup never expires.
 */
public final class Replay {
  private Replay() {}

  public static void run(Path input, Path outDir, PipelineSettings settings) throws Exception {
    Files.createDirectories(outDir);
    PipelineSettings replaySettings =
        new PipelineSettings(
            settings.maxOutOfOrderness(),
            settings.allowedLateness(),
            settings.breakdowns(),
            null, // replay never expires a dedup entry
            null, // nor a person
            PipelineSettings.Mode.REPLAY);

    Configuration conf = new Configuration();
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
    env.setRuntimeMode(RuntimeExecutionMode.STREAMING); // processing order, not key order

    FileSource<ParsedRecord> source =
        FileSource.forRecordStreamFormat(
                new JsonLinesFormat(input.getFileName().toString()),
                new org.apache.flink.core.fs.Path(input.toAbsolutePath().toUri()))
            .build();

    TallyTopology.Sinks sinks =
        new TallyTopology.Sinks(
            new LineFileSink<>(outDir.resolve("enriched.jsonl"), EnrichedRecord::toJson),
            new LineFileSink<>(outDir.resolve("dead_letter.jsonl"), Replay::deadLetterJson),
            new LineFileSink<>(outDir.resolve("late.jsonl"), EnrichedRecord::toOriginalJson),
            new CsvTablesSink(outDir),
            new PersonsFileSink(outDir.resolve("persons.jsonl")));

    TallyTopology.build(
        env,
        source,
        ValidEventWatermarks.strategy(replaySettings.maxOutOfOrderness(), true, null),
        replaySettings,
        sinks);
    env.execute("tally-replay");
  }

  static String deadLetterJson(DeadLetterRecord d) {
    return "{\"reason\":"
        + Json.quote(d.reason)
        + ",\"payload\":"
        + Json.quote(d.payloadText())
        + "}";
  }
}
