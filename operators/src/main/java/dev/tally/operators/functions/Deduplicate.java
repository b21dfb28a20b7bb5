package dev.tally.operators.functions;

import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.Sequenced;
import java.time.Duration;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Drops repeated (project, uuid) keys (SEMANTICS.md §3), keyed by {@link Sequenced#dedupKey}
 * (project, lower-cased uuid) so that one project's events spread over every subtask. The first
 * record wins; later ones are counted under their own hour as duplicates. Retention is
 * processing-time state TTL (an entry lives {@code retention} after it was written); {@code null}
 * keeps entries forever, as replay requires. On RocksDB, expired entries are removed by the
 * compaction filter, so state stays bounded without timers.
 *
 * <p>The shuffle by uuid mixes up each split's order, which the person rules need (decision 22):
 * progress markers from route are passed on, one per marker, to the split's order stage behind the
 * events of that split this subtask let through (docs/scale-out.md §3a).
 */
public class Deduplicate extends KeyedProcessFunction<String, Sequenced, Sequenced> {
  private final Duration retention;
  private transient ValueState<Boolean> seen;
  private transient Counter duplicates;
  private transient int subtask;
  private transient int parallelism;

  public Deduplicate(Duration retention) {
    this.retention = retention;
  }

  /**
   * Whether a (project, uuid) was seen, expiring {@code retention} after it was written ({@code
   * null}: never). Part of the savepoint contract: the savepoint tooling reads it.
   */
  public static ValueStateDescriptor<Boolean> seenDescriptor(Duration retention) {
    ValueStateDescriptor<Boolean> descriptor = new ValueStateDescriptor<>("seen", Types.BOOLEAN);
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
    seen = getRuntimeContext().getState(seenDescriptor(retention));
    duplicates = getRuntimeContext().getMetricGroup().counter("tallyDuplicates");
    subtask = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    parallelism = getRuntimeContext().getTaskInfo().getNumberOfParallelSubtasks();
  }

  @Override
  public void processElement(Sequenced record, Context ctx, Collector<Sequenced> out)
      throws Exception {
    if (record.isMarker()) {
      if (record.target != subtask) {
        throw new IllegalStateException(
            "a progress marker for dedup subtask "
                + record.target
                + " reached subtask "
                + subtask
                + ": route and dedup must have the same parallelism and max parallelism (do not"
                + " set either per operator)");
      }
      out.collect(Sequenced.fromDedup(record.split, record.offset, subtask, parallelism));
      return;
    }
    if (seen.value() != null) {
      duplicates.inc();
      ctx.output(Tags.LEDGER, LedgerEntry.duplicate(record.event));
      return;
    }
    seen.update(Boolean.TRUE);
    out.collect(record);
  }
}
