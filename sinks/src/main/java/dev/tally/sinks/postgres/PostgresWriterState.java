package dev.tally.sinks.postgres;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * What a writer subtask checkpoints: which checkpoint it snapshotted, and the number of the
 * transaction it prepared for it (its {@code tally.sink_commits.checkpoint}, which can be lower
 * than the checkpoint id). The second tells a blue/green upgrade which committed rows a savepoint
 * covers.
 */
public record PostgresWriterState(
    int subtask, long checkpoint, long preparedTransaction, String generation) {

  /** Version 1 (before blue/green from savepoints) did not record the prepared transaction. */
  public static final long UNKNOWN = -1;

  /** State of versions 1 and 2, which did not record the generation (null). */
  public PostgresWriterState(int subtask, long checkpoint, long preparedTransaction) {
    this(subtask, checkpoint, preparedTransaction, null);
  }

  /**
   * Version 3 records the generation that wrote the state, so a savepoint restored as another
   * generation is refused ({@link PostgresTwoPhaseSink#restoreWriter}).
   */
  public static final class Serializer implements SimpleVersionedSerializer<PostgresWriterState> {
    @Override
    public int getVersion() {
      return 3;
    }

    @Override
    public byte[] serialize(PostgresWriterState s) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeInt(s.subtask());
        out.writeLong(s.checkpoint());
        out.writeLong(s.preparedTransaction());
        out.writeUTF(s.generation() == null ? "" : s.generation());
      }
      return bytes.toByteArray();
    }

    @Override
    public PostgresWriterState deserialize(int version, byte[] serialized) throws IOException {
      if (version < 1 || version > 3) {
        throw new IOException("unknown PostgresWriterState version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        int subtask = in.readInt();
        long checkpoint = in.readLong();
        long prepared = version == 1 ? UNKNOWN : in.readLong();
        String generation = version < 3 ? null : in.readUTF();
        return new PostgresWriterState(
            subtask,
            checkpoint,
            prepared,
            generation == null || generation.isEmpty() ? null : generation);
      }
    }
  }
}
