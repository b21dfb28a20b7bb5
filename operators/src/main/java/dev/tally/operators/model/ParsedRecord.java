package dev.tally.operators.model;

/** The result of parsing one input record: exactly one of {@code valid} and {@code deadLetter}. */
public class ParsedRecord {
  public ValidEvent valid;
  public DeadLetterRecord deadLetter;

  /** Kafka position of the record, for the offsets the ledger is audited against; -1 for files. */
  public String topic;

  public int partition = -1;
  public long offset = -1;

  /** Only on position records: the event time of the valid record read there, else MIN_VALUE. */
  public long eventTimeMillis = Long.MIN_VALUE;

  public ParsedRecord() {}

  public static ParsedRecord valid(ValidEvent event) {
    ParsedRecord r = new ParsedRecord();
    r.valid = event;
    return r;
  }

  public static ParsedRecord deadLetter(DeadLetterRecord deadLetter) {
    ParsedRecord r = new ParsedRecord();
    r.deadLetter = deadLetter;
    return r;
  }

  /** Records where this record was read (Kafka sources only). */
  public ParsedRecord at(String topic, int partition, long offset) {
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
    return this;
  }

  public boolean isValid() {
    return valid != null;
  }

  @Override
  public String toString() {
    return isValid() ? valid.toString() : deadLetter.toString();
  }
}
