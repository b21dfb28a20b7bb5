package dev.tally.sinks.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sink's state lives in checkpoints and savepoints of every release: each serializer version
 * ever written must still read back (bytes of old versions built as those releases wrote them), and
 * the current one must round-trip.
 */
class SinkStateSerializersTest {
  private final PostgresWriterState.Serializer writer = new PostgresWriterState.Serializer();
  private final PostgresCommittable.Serializer committable = new PostgresCommittable.Serializer();

  @Test
  void shouldRoundTripTheCurrentWriterStateVersion() throws IOException {
    PostgresWriterState s = new PostgresWriterState(3, 42, 40, "g7");
    assertThat(writer.getVersion()).isEqualTo(3);
    assertThat(writer.deserialize(3, writer.serialize(s))).isEqualTo(s);
  }

  @Test
  void shouldReadWriterStateOfVersionsOneAndTwo() throws IOException {
    assertThat(
            writer.deserialize(
                1,
                bytes(
                    out -> {
                      out.writeInt(1);
                      out.writeLong(9);
                    })))
        .isEqualTo(new PostgresWriterState(1, 9, PostgresWriterState.UNKNOWN, null));
    assertThat(
            writer.deserialize(
                2,
                bytes(
                    out -> {
                      out.writeInt(1);
                      out.writeLong(9);
                      out.writeLong(8);
                    })))
        .isEqualTo(new PostgresWriterState(1, 9, 8, null));
    assertThatThrownBy(() -> writer.deserialize(4, new byte[0])).hasMessageContaining("version 4");
  }

  @Test
  void shouldRoundTripEveryCommittableVersion() throws IOException {
    PostgresCommittable c = new PostgresCommittable("tally_g7_aggregates_3_42", 3, 42);
    assertThat(committable.getVersion()).isEqualTo(1);
    assertThat(committable.deserialize(1, committable.serialize(c))).isEqualTo(c);
  }

  @Test
  void shouldRefuseARestoreAsAnotherGeneration() throws IOException {
    PostgresTwoPhaseSink.requireOwnState("g7", List.of(new PostgresWriterState(0, 5, 5, "g7")));
    PostgresTwoPhaseSink.requireOwnState("g8", List.of(new PostgresWriterState(0, 5, 5, null)));
    assertThatThrownBy(
            () ->
                PostgresTwoPhaseSink.requireOwnState(
                    "g8", List.of(new PostgresWriterState(0, 5, 5, "g7"))))
        .hasMessageContaining("belongs to generation 'g7'")
        .hasMessageContaining("runs as generation 'g8'")
        .hasMessageContaining("blue-green");
  }

  interface Writes {
    void to(DataOutputStream out) throws IOException;
  }

  private static byte[] bytes(Writes w) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(b)) {
      w.to(out);
    }
    return b.toByteArray();
  }
}
