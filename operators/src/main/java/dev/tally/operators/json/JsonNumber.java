package dev.tally.operators.json;

import java.io.Serializable;

/** A JSON number kept exactly as written in the input, so {@code 1.0} stays {@code 1.0}. */
public record JsonNumber(String literal) implements Serializable {
  @Override
  public String toString() {
    return literal;
  }
}
