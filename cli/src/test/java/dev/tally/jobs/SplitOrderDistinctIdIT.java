package dev.tally.jobs;

/** {@link SplitOrderIT} on the distinct-id persons layout. */
@org.junit.jupiter.api.extension.ExtendWith(DistinctIdLayout.class)
class SplitOrderDistinctIdIT extends SplitOrderIT {}
