package dev.tally.operators.functions;

import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.PersonSnapshot;
import org.apache.flink.util.OutputTag;

/** Side outputs of the pipeline's operators. */
public final class Tags {
  public static final OutputTag<DeadLetterRecord> DEAD_LETTERS = new OutputTag<>("dead-letters") {};
  public static final OutputTag<LedgerEntry> LEDGER = new OutputTag<>("ledger") {};
  public static final OutputTag<EnrichedRecord> TOO_LATE = new OutputTag<>("too-late") {};
  public static final OutputTag<PersonSnapshot> PERSONS = new OutputTag<>("persons") {};

  /** One {@link TallyRow#warning} per occurrence (refused merge, capped properties). */
  public static final OutputTag<dev.tally.operators.model.TallyRow> WARNINGS =
      new OutputTag<>("warnings") {};

  public static final OutputTag<ParsedRecord> POSITIONS = new OutputTag<>("positions") {};

  private Tags() {}
}
