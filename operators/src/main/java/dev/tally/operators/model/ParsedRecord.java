package dev.tally.operators.model;

/** The result of parsing one input record: exactly one of {@code valid} and {@code deadLetter}. */
public class ParsedRecord {
  public ValidEvent valid;
  public DeadLetterRecord deadLetter;

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

  public boolean isValid() {
    return valid != null;
  }

  @Override
  public String toString() {
    return isValid() ? valid.toString() : deadLetter.toString();
  }
}
