package dev.tally.operators.functions;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.ValidEvent;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Drops repeated (project, uuid) keys (SEMANTICS.md §3). Keyed by project, like the enrichment that
 * follows it: events of one distinct_id (one Kafka partition) then reach the person rules in the
 * order they were read, and dedup and enrichment run chained without a shuffle between them
 * (docs/decisions.md). The uuids seen are a {@code MapState} per project, lower-cased. The first
 * record wins; later ones are counted under their own hour as duplicates. Retention is
 * processing-time state TTL (an entry lives {@code retention} after it was written); {@code null}
 * keeps entries forever, as replay requires. On RocksDB, expired entries are removed by the
 * compaction filter, so state stays bounded without timers.
 */
public class Deduplicate extends KeyedProcessFunction<String, ValidEvent, ValidEvent> {
  private final Duration retention;
  private transient MapState<String, Boolean> seen;
  private transient Counter duplicates;

  public Deduplicate(Duration retention) {
    this.retention = retention;
  }

  /**
   * The uuids seen per project (lower-cased), expiring {@code retention} after they were written
   * ({@code null}: never). Part of the savepoint contract: the savepoint tooling reads it.
   */
  public static MapStateDescriptor<String, Boolean> seenDescriptor(Duration retention) {
    MapStateDescriptor<String, Boolean> descriptor =
        new MapStateDescriptor<>("seen-uuids", Types.STRING, Types.BOOLEAN);
    if (retention != null) {
      descriptor.enableTimeToLive(
          StateTtlConfig.newBuilder(retention)
              .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
              .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
              .cleanupFullSnapshot()
              .cleanupInRocksdbCompactFilter(1000)
              .build());
    }
    return descriptor;
  }

  @Override
  public void open(OpenContext openContext) {
    seen = getRuntimeContext().getMapState(seenDescriptor(retention));
    duplicates = getRuntimeContext().getMetricGroup().counter("tallyDuplicates");
  }

  @Override
  public void processElement(ValidEvent event, Context ctx, Collector<ValidEvent> out)
      throws Exception {
    String uuid = event.uuid.toLowerCase(java.util.Locale.ROOT);
    if (seen.contains(uuid)) {
      duplicates.inc();
      ctx.output(Tags.LEDGER, LedgerEntry.duplicate(event));
      return;
    }
    seen.put(uuid, Boolean.TRUE);
    out.collect(event);
  }
}
