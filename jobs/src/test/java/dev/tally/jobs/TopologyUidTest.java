package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.Test;

/**
 * Savepoint compatibility depends on operator uids: every operator of the ingestion job has an
 * explicit, stable uid and a readable name, and the stateful ones keep the uids they shipped with.
 */
class TopologyUidTest {

  private static StreamGraph ingestionGraph() {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    IngestionJob.build(env, new Configuration());
    return env.getStreamGraph();
  }

  @Test
  void shouldGiveEveryOperatorAnExplicitUid() {
    for (StreamNode node : ingestionGraph().getStreamNodes()) {
      assertThat(node.getTransformationUID())
          .as("uid of operator '%s'", node.getOperatorName())
          .isNotBlank();
    }
  }

  @Test
  void shouldKeepTheUidsOfStatefulOperators() {
    Map<String, String> uidByName = new HashMap<>();
    for (StreamNode node : ingestionGraph().getStreamNodes()) {
      uidByName.put(node.getTransformationUID(), node.getOperatorName());
    }
    assertThat(uidByName)
        .containsKeys(
            "source-events",
            "dedup-uuid",
            "restore-split-order",
            "enrich-persons",
            "count-events-persons",
            "sum-ledger")
        .doesNotContainKey(TallyTopology.Uids.RETIRED_DEDUP)
        .containsEntry("dedup-uuid", "deduplicate")
        .containsEntry("enrich-persons", "enrich with person");
    assertThat(uidByName.keySet())
        .anySatisfy(uid -> assertThat(uid).startsWith(TallyTopology.Uids.SINK_AGGREGATES))
        .anySatisfy(uid -> assertThat(uid).startsWith(TallyTopology.Uids.SINK_ENRICHED));
  }

  /** The distinct-id persons layout's graph, built without reaching Kafka. */
  private static StreamGraph distinctIdGraph(Configuration config) {
    config.setString(JobOptions.PERSONS_LAYOUT.key(), JobOptions.LAYOUT_DISTINCT_ID);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    var settings = IngestionJob.settings(config);
    IngestionJob.configureEnvironment(env, config);
    TallyTopology.build(
        env,
        IngestionJob.source(config, new IngestionJob.ValidatingDeserializer()),
        IngestionJob.watermarks(config, settings),
        settings,
        IngestionJob.sinks(config, settings),
        IngestionJob.loop(config, settings, false));
    return env.getStreamGraph();
  }

  @Test
  void shouldGiveTheDistinctIdLayoutItsOwnStableUids() {
    Map<String, String> uidByName = new HashMap<>();
    for (StreamNode node : distinctIdGraph(new Configuration()).getStreamNodes()) {
      assertThat(node.getTransformationUID())
          .as("uid of operator '%s'", node.getOperatorName())
          .isNotBlank();
      uidByName.put(node.getTransformationUID(), node.getOperatorName());
    }
    assertThat(uidByName)
        .containsEntry("links-by-distinct-id", "route by distinct_id")
        .containsEntry("persons-by-person-id", "apply to person")
        .containsEntry("source-persons-loop", "Source: persons loop")
        .containsKeys("dedup-uuid", "restore-split-order", "count-events-persons")
        .doesNotContainKey("enrich-persons");
    assertThat(uidByName.keySet())
        .anySatisfy(uid -> assertThat(uid).startsWith(TallyTopology.Uids.SINK_LOOP));
  }

  @Test
  void shouldRefuseWhatTheDistinctIdLayoutDoesNotSupportYet() {
    Configuration bounded = new Configuration();
    bounded.setString(JobOptions.STOPPING_OFFSETS.key(), "latest");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> distinctIdGraph(bounded))
        .hasMessageContaining("cannot run bounded");
    Configuration retention = new Configuration();
    retention.setString(JobOptions.PERSON_RETENTION.key(), "30d");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> distinctIdGraph(retention))
        .hasMessageContaining(JobOptions.PERSON_RETENTION.key());
    Configuration unknown = new Configuration();
    unknown.setString(JobOptions.PERSONS_LAYOUT.key(), "person");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> IngestionJob.build(StreamExecutionEnvironment.getExecutionEnvironment(), unknown))
        .hasMessageContaining("must be project or distinct-id");
  }

  @Test
  void shouldRefuseUnalignedCheckpointsWithTheReason() {
    Configuration config = new Configuration();
    config.setString("execution.checkpointing.unaligned.enabled", "true");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> IngestionJob.build(StreamExecutionEnvironment.getExecutionEnvironment(), config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("aligned checkpoints")
        .hasMessageContaining("remove the option");
  }
}
