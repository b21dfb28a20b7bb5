package dev.tally.operators.functions;

import dev.tally.operators.model.TallyRow;

/** One on-time event's share of one aggregate row: +1 event by {@code personId}. */
public class Contribution {
  public TallyRow row;
  public String personId;

  public Contribution() {}

  public Contribution(TallyRow row, String personId) {
    this.row = row;
    this.personId = personId;
  }

  public String key() {
    return row.key();
  }
}
