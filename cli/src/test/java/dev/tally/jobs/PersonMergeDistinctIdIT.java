package dev.tally.jobs;

/** {@link PersonMergeIT} on the distinct-id persons layout. */
@org.junit.jupiter.api.extension.ExtendWith(DistinctIdLayout.class)
class PersonMergeDistinctIdIT extends PersonMergeIT {}
