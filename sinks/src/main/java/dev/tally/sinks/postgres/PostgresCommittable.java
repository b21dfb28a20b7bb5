package dev.tally.sinks.postgres;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A prepared PostgreSQL transaction waiting for its checkpoint to complete.
 *
 * @param gid the prepared transaction's global id (see {@link TransactionIds})
 * @param subtask the writer subtask that prepared it
 * @param checkpoint the checkpoint estimate encoded in the gid
 */
public record PostgresCommittable(String gid, int subtask, long checkpoint) {

  /** Versioned binary form, kept in checkpoints: change only by adding a version. */
  public static final class Serializer implements SimpleVersionedSerializer<PostgresCommittable> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(PostgresCommittable c) throws IOException {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeUTF(c.gid());
        out.writeInt(c.subtask());
        out.writeLong(c.checkpoint());
      }
      return bytes.toByteArray();
    }

    @Override
    public PostgresCommittable deserialize(int version, byte[] serialized) throws IOException {
      if (version != 1) {
        throw new IOException("unknown PostgresCommittable version " + version);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
        return new PostgresCommittable(in.readUTF(), in.readInt(), in.readLong());
      }
    }
  }
}
