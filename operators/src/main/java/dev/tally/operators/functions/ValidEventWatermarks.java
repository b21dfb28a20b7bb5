package dev.tally.operators.functions;

import dev.tally.operators.model.ParsedRecord;
import java.time.Duration;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;

/**
 * Watermarks of SEMANTICS.md §6: after a valid record (duplicates included) the watermark is the
 * maximum valid event time so far minus the out-of-orderness bound; dead letters don't move it.
 * Used per Kafka partition by the Kafka source (with idleness) and per record in replay.
 */
public final class ValidEventWatermarks implements WatermarkGenerator<ParsedRecord> {
  private final long outOfOrdernessMillis;
  private final boolean emitOnEveryEvent;
  private long maxTimestamp = Long.MIN_VALUE;
  private long lastEmitted = Long.MIN_VALUE;

  public ValidEventWatermarks(Duration outOfOrderness, boolean emitOnEveryEvent) {
    this.outOfOrdernessMillis = outOfOrderness.toMillis();
    this.emitOnEveryEvent = emitOnEveryEvent;
  }

  /**
   * The strategy for a source of parsed records.
   *
   * @param emitOnEveryEvent true for replay (a watermark after every record); false for the
   *     streaming job (periodic emission, cheaper)
   * @param idleness partitions without records for this long stop holding the watermark back; null
   *     disables
   */
  public static WatermarkStrategy<ParsedRecord> strategy(
      Duration outOfOrderness, boolean emitOnEveryEvent, Duration idleness) {
    WatermarkStrategy<ParsedRecord> s =
        WatermarkStrategy.<ParsedRecord>forGenerator(
                ctx -> new ValidEventWatermarks(outOfOrderness, emitOnEveryEvent))
            .withTimestampAssigner(
                (record, previous) -> record.isValid() ? record.valid.timestampMillis : previous);
    return idleness == null ? s : s.withIdleness(idleness);
  }

  @Override
  public void onEvent(ParsedRecord record, long eventTimestamp, WatermarkOutput output) {
    if (!record.isValid()) {
      return;
    }
    maxTimestamp = Math.max(maxTimestamp, record.valid.timestampMillis);
    if (emitOnEveryEvent) {
      emit(output);
    }
  }

  @Override
  public void onPeriodicEmit(WatermarkOutput output) {
    if (!emitOnEveryEvent) {
      emit(output);
    }
  }

  private void emit(WatermarkOutput output) {
    if (maxTimestamp == Long.MIN_VALUE) {
      return; // before the first valid record there is no watermark
    }
    long wm = maxTimestamp - outOfOrdernessMillis;
    if (wm > lastEmitted) {
      lastEmitted = wm;
      output.emitWatermark(new Watermark(wm));
    }
  }
}
