package dev.tally.sinks.postgres;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/** What a writer subtask checkpoints: which checkpoint it last snapshotted. */
public record PostgresWriterState(int subtask, long checkpoint) {

  public static final class Serializer implements SimpleVersionedSerializer<PostgresWriterState> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(PostgresWriterState s) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeInt(s.subtask());
        out.writeLong(s.checkpoint());
      }
      return bytes.toByteArray();
    }

    @Override
    public PostgresWriterState deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1) {
        throw new IOException("unknown PostgresWriterState version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        return new PostgresWriterState(in.readInt(), in.readLong());
      }
    }
  }
}
