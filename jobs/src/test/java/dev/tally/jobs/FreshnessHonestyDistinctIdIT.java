package dev.tally.jobs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link FreshnessHonestyIT} on the distinct-id persons layout (docs/scale-out.md §14, G29). */
class FreshnessHonestyDistinctIdIT extends FreshnessHonestyIT {
  @BeforeAll
  static void distinctIdLayout() {
    KafkaTestCluster.personsLayout = JobOptions.LAYOUT_DISTINCT_ID;
  }

  @AfterAll
  static void defaultLayout() {
    KafkaTestCluster.personsLayout = null;
  }
}
