package dev.tally.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local cluster's config.yaml, built from Flink's typed options, reads back through Flink's own
 * loader (what the JobManager and TaskManagers run) with every value as set.
 */
class LocalFlinkConfigurationTest {

  @Test
  void theWrittenConfigYamlLoadsBackWithEveryValue(@TempDir Path dir) throws Exception {
    // a space in the path: the folders must reach Flink as written, not percent-encoded
    Path stack = dir.resolve("my stack");
    StackLayout layout = new StackLayout(stack, 0, 0, 0, 28081, 26123, 0);
    LocalFlink flink = new LocalFlink(layout, dir);
    flink.writeConfiguration();

    Configuration loaded =
        GlobalConfiguration.loadConfiguration(stack.resolve("flink/conf").toString());

    assertThat(loaded.toMap()).containsAllEntriesOf(flink.configuration().toMap());
    assertThat(loaded.get(RestOptions.PORT)).isEqualTo(28081);
    assertThat(loaded.get(TaskManagerOptions.NUM_TASK_SLOTS)).isEqualTo(4);
    assertThat(loaded.get(HeartbeatManagerOptions.HEARTBEAT_TIMEOUT))
        .isEqualTo(Duration.ofSeconds(15));
    // the --add-opens list is one option value with spaces: it must survive the YAML quoting
    assertThat(loaded.get(CoreOptions.FLINK_JVM_OPTIONS))
        .isEqualTo(String.join(" ", FlinkJvm.OPENS));
    assertThat(
            new org.apache.flink.core.fs.Path(
                    loaded.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .getPath())
        .isEqualTo(stack.resolve("flink/checkpoints").toAbsolutePath().toString());
  }
}
