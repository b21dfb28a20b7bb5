package dev.tally.jobs;

/**
 * {@link BlueGreenFromSavepointIT} on the distinct-id persons layout: green inherits the merges
 * blue had in flight at the savepoint through its own loop topic (docs/scale-out.md §14, G29).
 */
@org.junit.jupiter.api.extension.ExtendWith(DistinctIdLayout.class)
class BlueGreenFromSavepointDistinctIdIT extends BlueGreenFromSavepointIT {}
