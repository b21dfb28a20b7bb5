package dev.tally.jobs;

/** {@link FaultToleranceIT} on the distinct-id persons layout (docs/scale-out.md §14, G29). */
@org.junit.jupiter.api.extension.ExtendWith(DistinctIdLayout.class)
class FaultToleranceDistinctIdIT extends FaultToleranceIT {}
