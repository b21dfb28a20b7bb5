package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.Test;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.RocksDB;

/** The streaming job's RocksDB gets Tally's filters unless a job option says otherwise. */
class TallyRocksDBOptionsTest {

  /** The state backend the TaskManagers build from this job's configuration. */
  private static EmbeddedRocksDBStateBackend backendOfJob(Configuration jobOptions) {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    IngestionJob.configureEnvironment(env, jobOptions);
    assertThat(env.getConfiguration().get(RocksDBConfigurableOptions.USE_BLOOM_FILTER))
        .as("SST bloom filter")
        .isEqualTo(
            jobOptions.getOptional(RocksDBConfigurableOptions.USE_BLOOM_FILTER).orElse(true));
    return new EmbeddedRocksDBStateBackend()
        .configure(env.getConfiguration(), TallyRocksDBOptionsTest.class.getClassLoader());
  }

  private static ColumnFamilyOptions columnOptions(EmbeddedRocksDBStateBackend backend) {
    RocksDB.loadLibrary();
    List<AutoCloseable> handles = new ArrayList<>();
    return backend.getRocksDBOptions().createColumnOptions(new ColumnFamilyOptions(), handles);
  }

  @Test
  void shouldGiveTheStreamingJobsColumnFamiliesAWholeKeyMemtableFilterByDefault() {
    EmbeddedRocksDBStateBackend backend = backendOfJob(new Configuration());

    assertThat(backend.getRocksDBOptions()).isInstanceOf(TallyRocksDBOptions.class);
    try (ColumnFamilyOptions options = columnOptions(backend)) {
      assertThat(options.memtableWholeKeyFiltering()).isTrue();
      assertThat(options.memtablePrefixBloomSizeRatio()).isEqualTo(0.01);
    }
  }

  @Test
  void shouldLetJobOptionsSwitchTheFiltersOff() {
    EmbeddedRocksDBStateBackend backend =
        backendOfJob(
            Configuration.fromMap(
                Map.of(
                    "tally.rocksdb.memtable-bloom-ratio", "0",
                    "state.backend.rocksdb.use-bloom-filter", "false")));

    try (ColumnFamilyOptions options = columnOptions(backend)) {
      assertThat(options.memtableWholeKeyFiltering()).isFalse();
      assertThat(options.memtablePrefixBloomSizeRatio()).isZero();
    }
  }

  @Test
  void shouldRejectAMemtableFilterRatioAtSubmission() {
    Configuration tooLarge =
        Configuration.fromMap(Map.of("tally.rocksdb.memtable-bloom-ratio", "0.5"));

    assertThatThrownBy(
            () ->
                IngestionJob.configureEnvironment(
                    StreamExecutionEnvironment.getExecutionEnvironment(), tooLarge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tally.rocksdb.memtable-bloom-ratio must be between 0 and 0.25");
  }
}
