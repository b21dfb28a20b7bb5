package dev.tally.sinks.postgres;

import dev.tally.operators.model.TallyRow;
import java.io.IOException;
import java.io.Serializable;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Tally's exactly-once PostgreSQL sink for aggregate rows, ledger rows and the committed watermark,
 * on Flink's Sink V2 two-phase-commit API (DESIGN.md §4, docs/exactly-once.md).
 *
 * <p>Guarantees: each subtask writes everything it received between two checkpoint barriers in one
 * transaction, ends it with {@code PREPARE TRANSACTION} at the barrier, and {@code COMMIT PREPARED}
 * runs only after the checkpoint completed. The transaction also inserts a {@code
 * tally.sink_commits} row with the subtask's watermark, which both stamps freshness and proves the
 * commit during recovery. After a failure the restored checkpoint's transactions are committed and
 * any prepared transaction of this sink newer than it is rolled back.
 *
 * <p>Required: rows keyed by {@link TallyRow#key()} before the sink (one subtask owns a row);
 * PostgreSQL {@code max_prepared_transactions} ≥ parallelism + headroom; a login in role {@code
 * tally_writer}; the schema migrated ({@code ./tally db migrate}); a {@code generation}+{@code
 * sinkId} unique to this job lineage.
 */
public final class PostgresTwoPhaseSink
    implements Sink<TallyRow>,
        SupportsCommitter<PostgresCommittable>,
        SupportsWriterState<TallyRow, PostgresWriterState> {

  /**
   * @param connection where to write
   * @param generation job lineage tag ({@code [a-z0-9]{1,20}})
   * @param sinkId this sink within the generation ({@code [a-z0-9]{1,20}})
   * @param settings generation settings registered in {@code tally.generations}
   * @param lockTimeout bound on any lock wait; a wait this long fails the checkpoint loudly
   */
  public record Options(
      PostgresConnectionConfig connection,
      String generation,
      String sinkId,
      GenerationSettings settings,
      Duration lockTimeout)
      implements Serializable {
    public Options {
      TransactionIds.validateName("generation", generation);
      TransactionIds.validateName("sink id", sinkId);
    }
  }

  /** What {@code tally.generations} records about the job that writes a generation. */
  public record GenerationSettings(
      long maxOutOfOrdernessMs, long allowedLatenessMs, List<String> breakdowns)
      implements Serializable {}

  private final Options options;

  public PostgresTwoPhaseSink(Options options) {
    this.options = options;
  }

  @Override
  public SinkWriter<TallyRow> createWriter(WriterInitContext context) throws IOException {
    return restoreWriter(context, List.of());
  }

  @Override
  public StatefulSinkWriter<TallyRow, PostgresWriterState> restoreWriter(
      WriterInitContext context, Collection<PostgresWriterState> recoveredState)
      throws IOException {
    requireOwnState(options.generation(), recoveredState);
    return new PostgresTwoPhaseWriter(
        options,
        context.getTaskInfo().getIndexOfThisSubtask(),
        context.getTaskInfo().getNumberOfParallelSubtasks(),
        context.getRestoredCheckpointId(),
        context.metricGroup());
  }

  /**
   * A savepoint is a generation's: restored as another, its committables and dedup state would be
   * judged against the other's rows (double counts, or "lost" commits). Refused, with the ways that
   * are right.
   */
  static void requireOwnState(String generation, Collection<PostgresWriterState> recovered)
      throws IOException {
    for (PostgresWriterState s : recovered) {
      if (s.generation() != null && !s.generation().equals(generation)) {
        throw new IOException(
            "this checkpoint or savepoint belongs to generation '"
                + s.generation()
                + "' but the job runs as generation '"
                + generation
                + "': restore it as '"
                + s.generation()
                + "' (deploy --generation "
                + s.generation()
                + "), or start '"
                + generation
                + "' as a new generation taken from it (./tally upgrade --strategy blue-green,"
                + " which copies its rows and strips its sink state)");
      }
    }
  }

  @Override
  public SimpleVersionedSerializer<PostgresWriterState> getWriterStateSerializer() {
    return new PostgresWriterState.Serializer();
  }

  @Override
  public Committer<PostgresCommittable> createCommitter(CommitterInitContext context) {
    return new PostgresCommitter(options, context.getTaskInfo().getIndexOfThisSubtask());
  }

  @Override
  public SimpleVersionedSerializer<PostgresCommittable> getCommittableSerializer() {
    return new PostgresCommittable.Serializer();
  }
}
