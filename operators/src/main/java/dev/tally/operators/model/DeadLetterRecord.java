package dev.tally.operators.model;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/** A record that failed validation, with the reason and its original bytes (SEMANTICS.md §2). */
public class DeadLetterRecord {
  public String reason;
  public byte[] payload;

  /** Where the record came from (file line or topic/partition@offset), for operators. */
  public String source;

  public DeadLetterRecord() {}

  public DeadLetterRecord(String reason, byte[] payload, String source) {
    this.reason = reason;
    this.payload = payload;
    this.source = source;
  }

  /** The payload as text when it is valid UTF-8, otherwise base64 (SEMANTICS.md §2). */
  public String payloadText() {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(payload))
          .toString();
    } catch (CharacterCodingException e) {
      return Base64.getEncoder().encodeToString(payload);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DeadLetterRecord d
        && Objects.equals(reason, d.reason)
        && Arrays.equals(payload, d.payload)
        && Objects.equals(source, d.source);
  }

  @Override
  public int hashCode() {
    return Objects.hash(reason, Arrays.hashCode(payload));
  }

  @Override
  public String toString() {
    return "DeadLetter{" + reason + " from " + source + "}";
  }
}
