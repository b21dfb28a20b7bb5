package dev.tally.jobs;

import dev.tally.operators.model.TallyRow;
import dev.tally.sinks.postgres.PostgresCommittable;
import dev.tally.sinks.postgres.PostgresTwoPhaseSink;
import dev.tally.sinks.postgres.PostgresWriterState;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.api.connector.sink2.CommitterInitContext;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.SupportsCommitter;
import org.apache.flink.api.connector.sink2.SupportsWriterState;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Tally's PostgreSQL sink with one injected failure: once armed, the next {@code snapshotState}
 * throws after the transaction was already PREPAREd, so the checkpoint fails with a prepared
 * transaction in the database — the case that makes Flink's JDBC XA sink write rows twice.
 */
final class FailingSnapshotSink
    implements Sink<TallyRow>,
        SupportsCommitter<PostgresCommittable>,
        SupportsWriterState<TallyRow, PostgresWriterState> {
  static final AtomicBoolean ARMED = new AtomicBoolean();
  static final AtomicInteger FAILURES = new AtomicInteger();

  private final PostgresTwoPhaseSink delegate;

  FailingSnapshotSink(PostgresTwoPhaseSink delegate) {
    this.delegate = delegate;
  }

  @Override
  public SinkWriter<TallyRow> createWriter(WriterInitContext context) throws IOException {
    return restoreWriter(context, List.of());
  }

  @Override
  @SuppressWarnings("unchecked")
  public StatefulSinkWriter<TallyRow, PostgresWriterState> restoreWriter(
      WriterInitContext context, Collection<PostgresWriterState> state) throws IOException {
    StatefulSinkWriter<TallyRow, PostgresWriterState> w = delegate.restoreWriter(context, state);
    return new Writer(w, (CommittingSinkWriter<TallyRow, PostgresCommittable>) w);
  }

  @Override
  public SimpleVersionedSerializer<PostgresWriterState> getWriterStateSerializer() {
    return delegate.getWriterStateSerializer();
  }

  @Override
  public Committer<PostgresCommittable> createCommitter(CommitterInitContext context) {
    return delegate.createCommitter(context);
  }

  @Override
  public SimpleVersionedSerializer<PostgresCommittable> getCommittableSerializer() {
    return delegate.getCommittableSerializer();
  }

  private record Writer(
      StatefulSinkWriter<TallyRow, PostgresWriterState> stateful,
      CommittingSinkWriter<TallyRow, PostgresCommittable> committing)
      implements StatefulSinkWriter<TallyRow, PostgresWriterState>,
          CommittingSinkWriter<TallyRow, PostgresCommittable> {

    @Override
    public List<PostgresWriterState> snapshotState(long checkpointId) throws IOException {
      if (ARMED.compareAndSet(true, false)) {
        FAILURES.incrementAndGet();
        throw new IOException("injected snapshot failure after PREPARE (test)");
      }
      return stateful.snapshotState(checkpointId);
    }

    @Override
    public Collection<PostgresCommittable> prepareCommit()
        throws IOException, InterruptedException {
      return committing.prepareCommit();
    }

    @Override
    public void write(TallyRow element, Context context) throws IOException, InterruptedException {
      stateful.write(element, context);
    }

    @Override
    public void writeWatermark(Watermark watermark) throws IOException, InterruptedException {
      stateful.writeWatermark(watermark);
    }

    @Override
    public void flush(boolean endOfInput) throws IOException, InterruptedException {
      stateful.flush(endOfInput);
    }

    @Override
    public void close() throws Exception {
      stateful.close();
    }
  }
}
