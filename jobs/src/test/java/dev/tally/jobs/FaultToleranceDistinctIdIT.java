package dev.tally.jobs;

/** {@link FaultToleranceIT} on the distinct-id persons layout (docs/scale-out.md §14, G29). */
@org.junit.jupiter.api.extension.ExtendWith(DistinctIdLayout.class)
class FaultToleranceDistinctIdIT extends FaultToleranceIT {
  /**
   * Open defect of the distinct-id layout: in one clean-clone CI run (2026-12-03) the last minutes'
   * rows undercounted by a few events while the ledger balanced; not understood yet
   * (docs/scale-out.md §15, F2). It passes on the project layout ({@link FaultToleranceIT}) and
   * passed eight other times on this one (three of them under CPU load).
   */
  @Override
  @org.junit.jupiter.api.Disabled("open defect on the distinct-id layout: docs/scale-out.md §15 F2")
  @org.junit.jupiter.api.Test
  void shouldNotCommitRowsTwiceWhenACheckpointFailsAfterThePrepare() {}
}
