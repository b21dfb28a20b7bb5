package dev.tally.operators.json;

/** The text is not a single valid JSON value (RFC 8259, no NaN/Infinity, no lone surrogates). */
public final class JsonException extends Exception {
  public JsonException(String message) {
    super(message, null, false, false);
  }
}
