package dev.tally.jobs;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** {@link PersonMergeIT} on the distinct-id persons layout (docs/scale-out.md §14, G29). */
class PersonMergeDistinctIdIT extends PersonMergeIT {
  @BeforeAll
  static void distinctIdLayout() {
    KafkaTestCluster.personsLayout = JobOptions.LAYOUT_DISTINCT_ID;
  }

  @AfterAll
  static void defaultLayout() {
    KafkaTestCluster.personsLayout = null;
  }
}
