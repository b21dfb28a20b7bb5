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
public record PostgresWriterState(int subtask, long checkpoint, long preparedTransaction) {

  /** Version 1 (before blue/green from savepoints) did not record the prepared transaction. */
  public static final long UNKNOWN = -1;

  public static final class Serializer implements SimpleVersionedSerializer<PostgresWriterState> {
    @Override
    public int getVersion() {
      return 2;
    }

    @Override
    public byte[] serialize(PostgresWriterState s) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeInt(s.subtask());
        out.writeLong(s.checkpoint());
        out.writeLong(s.preparedTransaction());
      }
      return bytes.toByteArray();
    }

    @Override
    public PostgresWriterState deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1 && version != 2) {
        throw new IOException("unknown PostgresWriterState version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        int subtask = in.readInt();
        long checkpoint = in.readLong();
        return new PostgresWriterState(subtask, checkpoint, version == 1 ? UNKNOWN : in.readLong());
      }
    }
  }
}
