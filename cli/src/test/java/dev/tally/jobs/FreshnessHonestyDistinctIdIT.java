package dev.tally.jobs;

/** {@link FreshnessHonestyIT} on the distinct-id persons layout. */
@org.junit.jupiter.api.extension.ExtendWith(DistinctIdLayout.class)
class FreshnessHonestyDistinctIdIT extends FreshnessHonestyIT {}
