package dev.tally.cli.traffic;

/**
 * One generated raw record and what the generator meant it to be, so checks can compute the
 * expected result independently of the job.
 *
 * @param avro the Kafka record value (Avro RawEvent, or junk bytes for some invalid records)
 * @param kind VALID (first copy), DUPLICATE (a retry of an earlier uuid), INVALID
 */
public record GeneratedEvent(
    Kind kind,
    String uuid,
    String project,
    String event,
    String distinctId,
    long timestampMillis,
    String browser,
    byte[] avro) {
  public enum Kind {
    VALID,
    DUPLICATE,
    INVALID
  }

  public byte[] key() {
    return (project + ":" + distinctId).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }
}
