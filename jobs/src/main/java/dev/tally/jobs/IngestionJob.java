package dev.tally.jobs;

import dev.tally.operators.PipelineSettings;
import dev.tally.operators.functions.ValidEventWatermarks;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.persons.merge.LoopRecord;
import dev.tally.operators.validation.EventValidator;
import dev.tally.sinks.kafka.KafkaSinks;
import dev.tally.sinks.kafka.KafkaTopics;
import dev.tally.sinks.kafka.KafkaTransactionChecks;
import dev.tally.sinks.kafka.LoopTopic;
import dev.tally.sinks.postgres.PostgresConnectionConfig;
import dev.tally.sinks.postgres.PostgresTwoPhaseSink;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.state.rocksdb.RocksDBConfigurableOptions;
import org.apache.flink.state.rocksdb.RocksDBOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.flink.util.ParameterTool;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The streaming ingestion job: Kafka {@code events_raw} (Avro) → Tally topology → Kafka
 * enriched/dead-letter/late topics (transactions) and PostgreSQL (two-phase commit).
 *
 * <p>How to run: {@code ./tally demo} runs it on the local stack; on any Flink 2.2 cluster submit
 * {@code jobs/target/tally-jobs-*-job.jar} with {@code --tally.generation g1
 * --tally.kafka.bootstrap-servers … --tally.postgres.url …} ({@link JobOptions}). Requires the
 * RocksDB state backend and a durable checkpoint directory in the cluster configuration, the schema
 * migrated, and the PostgreSQL password in {@code TALLY_PG_PASSWORD} on the TaskManagers.
 */
public final class IngestionJob {
  /**
   * The id of the PostgreSQL sink of aggregates: in its transaction ids and {@code
   * tally.sink_commits.sink_id}, where the upgrades and the bench look for its commits.
   */
  public static final String AGGREGATES_SINK_ID = "aggregates";

  private IngestionJob() {}

  public static void main(String[] args) throws Exception {
    Configuration config = Configuration.fromMap(ParameterTool.fromArgs(args).toMap());
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    checkKafkaTransactions(config);
    build(env, config);
    env.execute("tally-ingestion-" + config.get(JobOptions.GENERATION));
  }

  /** Refuses to start when Kafka transactions could time out and lose data. */
  public static void checkKafkaTransactions(Configuration config) throws Exception {
    List<String> problems =
        KafkaTransactionChecks.problems(
            config.get(JobOptions.KAFKA_BOOTSTRAP),
            config.get(JobOptions.KAFKA_TRANSACTION_TIMEOUT),
            config.get(JobOptions.CHECKPOINT_INTERVAL),
            config.get(JobOptions.RESTART_BUDGET),
            JobOptions.KAFKA_TRANSACTION_TIMEOUT.key());
    if (!problems.isEmpty()) {
      throw new IllegalStateException(String.join("; ", problems));
    }
  }

  /** Wires Kafka and PostgreSQL around {@link TallyTopology#build}. */
  public static void build(StreamExecutionEnvironment env, Configuration config) {
    build(env, config, new ValidatingDeserializer());
  }

  /** As {@link #build(StreamExecutionEnvironment, Configuration)}; tests wrap the deserializer. */
  public static void build(
      StreamExecutionEnvironment env,
      Configuration config,
      KafkaRecordDeserializationSchema<ParsedRecord> deserializer) {
    PipelineSettings settings = settings(config);
    configureEnvironment(env, config);
    TallyTopology.build(
        env,
        source(config, deserializer),
        watermarks(config, settings),
        settings,
        sinks(config, settings),
        loop(config, settings, true));
  }

  /**
   * The person protocol's loop for {@code tally.persons.layout = distinct-id}, its topic created if
   * missing; null for the project layout. Refuses what the layout does not support yet.
   */
  static TallyTopology.Loop loop(
      Configuration config, PipelineSettings settings, boolean createTopic) {
    String layout = config.get(JobOptions.PERSONS_LAYOUT);
    if (JobOptions.LAYOUT_PROJECT.equals(layout)) {
      return null;
    }
    if (!JobOptions.LAYOUT_DISTINCT_ID.equals(layout)) {
      throw new IllegalArgumentException(
          JobOptions.PERSONS_LAYOUT.key()
              + " must be "
              + JobOptions.LAYOUT_PROJECT
              + " or "
              + JobOptions.LAYOUT_DISTINCT_ID
              + ", got '"
              + layout
              + "'");
    }
    if (config.get(JobOptions.STOPPING_OFFSETS) != null) {
      throw new IllegalArgumentException(
          JobOptions.PERSONS_LAYOUT.key()
              + "=distinct-id cannot run bounded ("
              + JobOptions.STOPPING_OFFSETS.key()
              + "): its loop topic never ends (docs/scale-out.md §14); use the project layout");
    }
    if (settings.personRetention() != null) {
      throw new IllegalArgumentException(
          JobOptions.PERSONS_LAYOUT.key()
              + "=distinct-id does not support "
              + JobOptions.PERSON_RETENTION.key()
              + " yet (an expired tomb would lose a merged id's person); remove one of them");
    }
    String topic =
        LoopTopic.name(
            config.get(JobOptions.TOPIC_PERSONS_LOOP), config.get(JobOptions.GENERATION));
    if (createTopic) {
      try {
        KafkaTopics.ensure(
            config.get(JobOptions.KAFKA_BOOTSTRAP),
            Map.of(topic, config.get(JobOptions.PERSONS_LOOP_PARTITIONS)),
            (short) -1);
      } catch (Exception e) {
        throw new IllegalStateException(
            "could not create the persons loop topic "
                + topic
                + " on "
                + config.get(JobOptions.KAFKA_BOOTSTRAP)
                + ": "
                + e,
            e);
      }
    }
    KafkaSource<LoopRecord> source =
        kafkaSource(config, topic, "-loop", LoopTopic.deserializer())
            .setStartingOffsets(OffsetsInitializer.earliest())
            .build();
    return new TallyTopology.Loop(source, LoopTopic.sink(kafkaSettings(config), topic));
  }

  /**
   * What {@code tally.generations} records about a job run with {@code config}: the one place that
   * derives it (the sink registers it, the CLI registers it before the job starts).
   */
  public static PostgresTwoPhaseSink.GenerationSettings generationSettings(Configuration config) {
    return generationSettings(settings(config));
  }

  static PostgresTwoPhaseSink.GenerationSettings generationSettings(PipelineSettings settings) {
    return new PostgresTwoPhaseSink.GenerationSettings(
        settings.maxOutOfOrderness().toMillis(),
        settings.allowedLateness().toMillis(),
        settings.breakdowns());
  }

  public static PipelineSettings settings(Configuration config) {
    return new PipelineSettings(
        config.get(JobOptions.MAX_OUT_OF_ORDERNESS),
        config.get(JobOptions.ALLOWED_LATENESS),
        config.get(JobOptions.BREAKDOWNS),
        config.get(JobOptions.DEDUP_RETENTION),
        config.get(JobOptions.PERSON_RETENTION),
        PipelineSettings.Mode.STREAMING,
        config.get(JobOptions.BUNDLE_EVENTS),
        config.get(JobOptions.PERSON_CACHE_SIZE),
        config.get(JobOptions.COUNT_CACHED_PERSONS));
  }

  /** Parallelism, exactly-once checkpoints and the RocksDB state backend. */
  public static void configureEnvironment(StreamExecutionEnvironment env, Configuration config) {
    // Tally's RocksDB defaults: filters for the lookups that miss (TallyRocksDBOptions). Checked
    // here so a bad value fails the submission, not every restore on the TaskManagers.
    new TallyRocksDBOptions().configure(config);
    Configuration defaults = new Configuration();
    defaults.set(RocksDBOptions.OPTIONS_FACTORY, TallyRocksDBOptions.class.getName());
    defaults.set(RocksDBConfigurableOptions.USE_BLOOM_FILTER, true);
    env.configure(defaults);
    // Flink options among the job's arguments (e.g. state.backend.rocksdb.*) apply to this job and
    // override the defaults above; the settings below are Tally's contract and win.
    env.configure(config);
    if (config.get(CheckpointingOptions.ENABLE_UNALIGNED)) {
      throw new IllegalArgumentException(
          CheckpointingOptions.ENABLE_UNALIGNED.key()
              + " is not supported: the stage that restores each Kafka partition's order after the"
              + " shuffle by uuid relies on aligned checkpoints (docs/scale-out.md §3a); remove the"
              + " option");
    }
    // Explicit, so that a cluster-wide default cannot turn them on under the job either.
    env.getCheckpointConfig().enableUnalignedCheckpoints(false);
    env.setParallelism(config.get(JobOptions.PARALLELISM));
    // No defensive copies between chained operators (they were 14% of the CPU): no Tally operator
    // mutates its input or keeps it after emitting; the PostgreSQL writer copies what it buffers.
    env.getConfig().enableObjectReuse();
    env.enableCheckpointing(
        config.get(JobOptions.CHECKPOINT_INTERVAL).toMillis(), CheckpointingMode.EXACTLY_ONCE);
    env.getCheckpointConfig().setMinPauseBetweenCheckpoints(200);
    env.getCheckpointConfig()
        .setCheckpointTimeout(config.get(JobOptions.CHECKPOINT_TIMEOUT).toMillis());
    env.configure(new Configuration().set(StateBackendOptions.STATE_BACKEND, "rocksdb"));
  }

  /** Per-partition watermarks over valid records, with the idleness timeout. */
  public static WatermarkStrategy<ParsedRecord> watermarks(
      Configuration config, PipelineSettings settings) {
    WatermarkStrategy<ParsedRecord> strategy =
        ValidEventWatermarks.strategy(
            settings.maxOutOfOrderness(), false, config.get(JobOptions.SOURCE_IDLENESS));
    Duration maxDrift = config.get(JobOptions.WATERMARK_ALIGNMENT_MAX_DRIFT);
    return maxDrift == null
        ? strategy
        : strategy.withWatermarkAlignment("tally-raw", maxDrift, Duration.ofSeconds(1));
  }

  public static KafkaSource<ParsedRecord> source(
      Configuration config, KafkaRecordDeserializationSchema<ParsedRecord> deserializer) {
    var builder =
        kafkaSource(config, config.get(JobOptions.TOPIC_RAW), "", deserializer)
            .setStartingOffsets(startingOffsets(config.get(JobOptions.STARTING_OFFSETS)));
    String stopping = config.get(JobOptions.STOPPING_OFFSETS);
    if (stopping != null) {
      builder.setBounded(
          "latest".equals(stopping) ? OffsetsInitializer.latest() : startingOffsets(stopping));
    }
    return builder.build();
  }

  /**
   * A Kafka source of the job: read_committed, offsets committed on checkpoint, in the generation's
   * consumer group ({@code groupSuffix} tells its sources apart).
   */
  private static <T> org.apache.flink.connector.kafka.source.KafkaSourceBuilder<T> kafkaSource(
      Configuration config,
      String topic,
      String groupSuffix,
      KafkaRecordDeserializationSchema<T> deserializer) {
    return KafkaSource.<T>builder()
        .setBootstrapServers(config.get(JobOptions.KAFKA_BOOTSTRAP))
        .setTopics(topic)
        .setGroupId("tally-" + config.get(JobOptions.GENERATION) + groupSuffix)
        .setDeserializer(deserializer)
        .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
        .setProperty(KafkaSourceOptions.COMMIT_OFFSETS_ON_CHECKPOINT.key(), "true");
  }

  /** Kafka transactional sinks for enriched, dead-letter and late; the PostgreSQL 2PC sink. */
  public static TallyTopology.Sinks sinks(Configuration config, PipelineSettings settings) {
    String generation = config.get(JobOptions.GENERATION);
    String compression = config.get(JobOptions.KAFKA_COMPRESSION);
    if (!List.of("none", "gzip", "snappy", "lz4", "zstd").contains(compression)) {
      throw new IllegalArgumentException(
          "tally.kafka.compression must be none, gzip, snappy, lz4 or zstd, got '"
              + compression
              + "'");
    }
    KafkaSinks.Settings kafka = kafkaSettings(config);
    PostgresTwoPhaseSink aggregates =
        new PostgresTwoPhaseSink(
            new PostgresTwoPhaseSink.Options(
                new PostgresConnectionConfig(
                    config.get(JobOptions.POSTGRES_URL),
                    config.get(JobOptions.POSTGRES_USER),
                    config.get(JobOptions.POSTGRES_PASSWORD_ENV),
                    config.get(JobOptions.POSTGRES_PASSWORD_FILE)),
                generation,
                AGGREGATES_SINK_ID,
                generationSettings(settings),
                config.get(JobOptions.POSTGRES_LOCK_TIMEOUT)));
    return new TallyTopology.Sinks(
        KafkaSinks.enriched(kafka, config.get(JobOptions.TOPIC_ENRICHED)),
        KafkaSinks.deadLetters(kafka, config.get(JobOptions.TOPIC_DEAD_LETTER)),
        KafkaSinks.tooLate(kafka, config.get(JobOptions.TOPIC_LATE)),
        aggregates,
        null);
  }

  private static KafkaSinks.Settings kafkaSettings(Configuration config) {
    return new KafkaSinks.Settings(
        config.get(JobOptions.KAFKA_BOOTSTRAP),
        config.get(JobOptions.GENERATION),
        config.get(JobOptions.KAFKA_TRANSACTION_TIMEOUT),
        config.get(JobOptions.KAFKA_COMPRESSION),
        config.get(JobOptions.KAFKA_PRODUCER_METRICS));
  }

  static OffsetsInitializer startingOffsets(String spec) {
    if ("earliest".equals(spec)) {
      return OffsetsInitializer.earliest();
    }
    if ("latest".equals(spec)) {
      return OffsetsInitializer.latest();
    }
    if (spec.startsWith("timestamp:")) {
      try {
        return OffsetsInitializer.timestamp(Long.parseLong(spec.substring("timestamp:".length())));
      } catch (NumberFormatException e) {
        // fall through to the error below
      }
    }
    throw new IllegalArgumentException(
        "tally.source.starting-offsets must be earliest, latest or timestamp:<epoch-ms>, not '"
            + spec
            + "'");
  }

  /**
   * Validates each Kafka record where it is read; never throws, so a poison record becomes a dead
   * letter instead of a restart loop.
   */
  public static final class ValidatingDeserializer
      implements KafkaRecordDeserializationSchema<ParsedRecord> {
    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ParsedRecord> out)
        throws IOException {
      out.collect(
          EventValidator.parseAvro(
                  record.value(), record.topic() + "/" + record.partition() + "@" + record.offset())
              .at(record.topic(), record.partition(), record.offset()));
    }

    @Override
    public TypeInformation<ParsedRecord> getProducedType() {
      return TypeInformation.of(ParsedRecord.class);
    }
  }
}
