package dev.tally.jobs;

/**
 * {@link RescaleRestoreIT} on the distinct-id persons layout: the person nodes and their holds (a
 * union list redistributed by key group) and the loop's reader positions follow the rescale.
 */
@org.junit.jupiter.api.extension.ExtendWith(DistinctIdLayout.class)
class RescaleRestoreDistinctIdIT extends RescaleRestoreIT {}
