package dev.tally.operators.functions;

import dev.tally.operators.model.TallyRow;

/**
 * A share of one aggregate row: {@code events} on-time events by the distinct {@code personIds}.
 * One event contributes {@code (1, [its person_id])}; {@link PreAggregateContributions} merges the
 * shares of a row into one before the keyed count.
 */
public class Contribution {
  public TallyRow row;
  public long events;
  public String[] personIds;

  public Contribution() {}

  public Contribution(TallyRow row, String personId) {
    this(row, 1, new String[] {personId});
  }

  public Contribution(TallyRow row, long events, String[] personIds) {
    this.row = row;
    this.events = events;
    this.personIds = personIds;
  }

  public String key() {
    return row.key();
  }
}
