package dev.tally.jobs.reference;

import dev.tally.jobs.IngestionJob;
import dev.tally.jobs.IngestionJob.ValidatingDeserializer;
import dev.tally.jobs.JobOptions;
import dev.tally.operators.functions.RouteRecords;
import dev.tally.operators.model.Sequenced;
import dev.tally.operators.model.ValidEvent;
import java.time.Duration;
import java.util.Locale;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.StateTtlConfig;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.Collector;
import org.apache.flink.util.ParameterTool;

/**
 * The bench's reference: Nexmark q18 (dedup on RocksDB) on Tally's own input, so that the pipeline
 * is compared with the cheapest job that does the first thing Tally does, on the same stack in the
 * same run ({@code pipeline / reference}). The same Kafka source, Avro decode and validation as
 * {@link IngestionJob}, the same checkpointing and RocksDB settings; then {@code keyBy(uuid)}, a
 * {@code ValueState} per uuid with Tally's dedup retention, and a discarding sink. Bounded by
 * {@code tally.source.stopping-offsets}: the bench times it from RUNNING to FINISHED.
 */
public final class ReferenceJob {
  private ReferenceJob() {}

  public static void main(String[] args) throws Exception {
    Configuration config = Configuration.fromMap(ParameterTool.fromArgs(args).toMap());
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    build(env, config);
    env.execute("tally-reference-" + config.get(JobOptions.GENERATION));
  }

  /** The reference topology; the sink is the caller's so a test can collect what it emits. */
  public static DataStream<ValidEvent> build(StreamExecutionEnvironment env, Configuration config) {
    IngestionJob.configureEnvironment(env, config);
    DataStream<ValidEvent> unique =
        env.fromSource(
                IngestionJob.source(config, new ValidatingDeserializer()),
                IngestionJob.watermarks(config, IngestionJob.settings(config)),
                "events")
            .uid("reference-source")
            .process(new RouteRecords())
            .uid("reference-route")
            .name("validate")
            .keyBy(s -> s.event.uuid.toLowerCase(Locale.ROOT), Types.STRING)
            .process(new FirstSeen(config.get(JobOptions.DEDUP_RETENTION)))
            .uid("reference-dedup")
            .name("deduplicate by uuid");
    unique.sinkTo(new DiscardingSink<>()).uid("reference-sink").name("discard");
    return unique;
  }

  /** Emits the first event of each uuid (the key). */
  static final class FirstSeen extends KeyedProcessFunction<String, Sequenced, ValidEvent> {
    private final Duration retention;
    private transient ValueState<Boolean> seen;

    FirstSeen(Duration retention) {
      this.retention = retention;
    }

    @Override
    public void open(OpenContext openContext) {
      ValueStateDescriptor<Boolean> d = new ValueStateDescriptor<>("seen", Types.BOOLEAN);
      if (retention != null) {
        d.enableTimeToLive(
            StateTtlConfig.newBuilder(retention)
                .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
                .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
                .cleanupInRocksdbCompactFilter(1000)
                .build());
      }
      seen = getRuntimeContext().getState(d);
    }

    @Override
    public void processElement(Sequenced s, Context ctx, Collector<ValidEvent> out)
        throws Exception {
      if (seen.value() == null) {
        seen.update(Boolean.TRUE);
        out.collect(s.event);
      }
    }
  }
}
