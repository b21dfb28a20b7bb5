package dev.tally.jobs;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs an IT class on the distinct-id persons layout (docs/scale-out.md §14, G29): every job config
 * its tests get from {@link KafkaTestCluster#jobConfig} sets it.
 */
final class DistinctIdLayout implements BeforeAllCallback, AfterAllCallback {
  @Override
  public void beforeAll(ExtensionContext context) {
    KafkaTestCluster.personsLayout = JobOptions.LAYOUT_DISTINCT_ID;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    KafkaTestCluster.personsLayout = null;
  }
}
