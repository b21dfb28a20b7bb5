package dev.tally.sinks.kafka;

import dev.tally.avro.DeadLetter;
import dev.tally.avro.EnrichedEvent;
import dev.tally.avro.RawEvent;
import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.ValidEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Avro binary encoding of Tally's Kafka records (schemas in operators/src/main/avro). Plain Avro
 * binary without a schema registry: every topic has one schema, evolved compatibly.
 */
public final class AvroCodec {
  private AvroCodec() {}

  public static byte[] encode(SpecificRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    try {
      new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static <T extends SpecificRecord> T decode(byte[] bytes, Class<T> type)
      throws IOException {
    return new SpecificDatumReader<>(type)
        .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
  }

  public static EnrichedEvent toAvro(EnrichedRecord r, String generation) {
    ValidEvent e = r.event;
    return EnrichedEvent.newBuilder()
        .setUuid(e.uuid)
        .setProject(e.project)
        .setEvent(e.event)
        .setDistinctId(e.distinctId)
        .setTimestamp(e.timestamp)
        .setProperties(e.propertiesJson)
        .setPersonId(r.personId)
        .setPersonProperties(r.personPropertiesJson)
        .setGeneration(generation)
        .build();
  }

  /** A too-late event as it was received (the raw schema), for reprocessing by a backfill. */
  public static RawEvent toRaw(ValidEvent e) {
    return RawEvent.newBuilder()
        .setUuid(e.uuid)
        .setProject(e.project)
        .setEvent(e.event)
        .setDistinctId(e.distinctId)
        .setTimestamp(e.timestamp)
        .setProperties(e.propertiesPresent ? e.propertiesJson : null)
        .build();
  }

  /**
   * Payload bytes a dead letter on Kafka keeps. Only an oversized record is longer; kept whole, it
   * could exceed the record limit of the dead-letter topic (a raw record may be as large as the
   * broker allows) and fail every checkpoint. Its first bytes and its size are kept instead.
   */
  public static final int MAX_DEAD_LETTER_PAYLOAD = 65_536;

  public static DeadLetter toAvro(DeadLetterRecord d, String generation) {
    boolean whole = d.payload.length <= MAX_DEAD_LETTER_PAYLOAD;
    return DeadLetter.newBuilder()
        .setReason(d.reason)
        .setPayload(
            ByteBuffer.wrap(d.payload, 0, whole ? d.payload.length : MAX_DEAD_LETTER_PAYLOAD))
        .setSource(d.source == null ? "" : d.source)
        .setGeneration(generation)
        .setPayloadBytes(whole ? -1 : d.payload.length)
        .build();
  }
}
