package dev.tally.jobs;

import static org.apache.flink.configuration.ConfigOptions.key;

import java.time.Duration;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;

/**
 * Typed configuration of the ingestion job. Pass as {@code --key value} program arguments or in the
 * Flink configuration; {@code docs/operations.md} ("Job configuration") lists them. Secrets are not
 * options: the PostgreSQL password comes from the environment variable or file named here.
 */
public final class JobOptions {
  public static final ConfigOption<String> GENERATION =
      key("tally.generation")
          .stringType()
          .defaultValue("g1")
          .withDescription(
              "Job lineage tag ([a-z0-9]{1,20}); tags rows, Kafka transactional ids, consumer group and 2PC gids.");

  public static final ConfigOption<String> KAFKA_BOOTSTRAP =
      key("tally.kafka.bootstrap-servers")
          .stringType()
          .defaultValue("localhost:9092")
          .withDescription("Kafka bootstrap servers.");

  public static final ConfigOption<String> TOPIC_RAW =
      key("tally.topic.raw")
          .stringType()
          .defaultValue("events_raw")
          .withDescription("Input topic (Avro RawEvent).");

  public static final ConfigOption<String> TOPIC_ENRICHED =
      key("tally.topic.enriched")
          .stringType()
          .defaultValue("events_enriched")
          .withDescription("Output topic of enriched events (Avro EnrichedEvent, transactional).");

  public static final ConfigOption<String> TOPIC_DEAD_LETTER =
      key("tally.topic.dead-letter")
          .stringType()
          .defaultValue("events_dead_letter")
          .withDescription("Output topic of invalid records (Avro DeadLetter, transactional).");

  public static final ConfigOption<String> TOPIC_LATE =
      key("tally.topic.late")
          .stringType()
          .defaultValue("events_late")
          .withDescription("Output topic of too-late events (Avro RawEvent, transactional).");

  public static final ConfigOption<String> STARTING_OFFSETS =
      key("tally.source.starting-offsets")
          .stringType()
          .defaultValue("earliest")
          .withDescription(
              "Where a generation without state starts reading: earliest, latest or timestamp:<epoch-ms>. A restore always continues from its checkpoint.");

  public static final ConfigOption<String> STOPPING_OFFSETS =
      key("tally.source.stopping-offsets")
          .stringType()
          .noDefaultValue()
          .withDescription(
              "Optional: makes the source bounded (a backfill): latest, or timestamp:<epoch-ms>"
                  + " of the Kafka record timestamps (exclusive). The job finishes, committing"
                  + " everything, when every partition reached it.");

  public static final ConfigOption<String> KAFKA_COMPRESSION =
      key("tally.kafka.compression")
          .stringType()
          .defaultValue("lz4")
          .withDescription(
              "compression.type of the output producers (none, gzip, snappy, lz4, zstd). lz4 saves"
                  + " network and broker disk; none saves the TaskManager's CPU where the broker is"
                  + " local (docs/performance.md).");

  public static final ConfigOption<Boolean> KAFKA_PRODUCER_METRICS =
      key("tally.kafka.producer-metrics")
          .booleanType()
          .defaultValue(true)
          .withDescription(
              "Register every output producer's Kafka client metrics with Flink (the connector's"
                  + " default). Switching it off made no measurable difference (docs/performance.md).");

  public static final ConfigOption<Duration> KAFKA_TRANSACTION_TIMEOUT =
      key("tally.kafka.transaction-timeout")
          .durationType()
          .defaultValue(Duration.ofMinutes(10))
          .withDescription(
              "Kafka producer transaction.timeout.ms; must be ≤ the broker's transaction.max.timeout.ms and ≥ checkpoint interval + restart budget.");

  public static final ConfigOption<Duration> RESTART_BUDGET =
      key("tally.restart-budget")
          .durationType()
          .defaultValue(Duration.ofMinutes(5))
          .withDescription(
              "The longest outage the job must survive without losing Kafka transactions.");

  public static final ConfigOption<String> POSTGRES_URL =
      key("tally.postgres.url")
          .stringType()
          .defaultValue("jdbc:postgresql://localhost:5432/tally")
          .withDescription("JDBC URL of the PostgreSQL database holding the tally schema.");

  public static final ConfigOption<String> POSTGRES_USER =
      key("tally.postgres.user")
          .stringType()
          .defaultValue("tally_job")
          .withDescription("PostgreSQL login (member of tally_writer).");

  public static final ConfigOption<String> POSTGRES_PASSWORD_ENV =
      key("tally.postgres.password-env")
          .stringType()
          .defaultValue("TALLY_PG_PASSWORD")
          .withDescription(
              "Environment variable holding the PostgreSQL password (on the TaskManagers).");

  public static final ConfigOption<String> POSTGRES_PASSWORD_FILE =
      key("tally.postgres.password-file")
          .stringType()
          .noDefaultValue()
          .withDescription(
              "File holding the PostgreSQL password; wins over the environment variable.");

  public static final ConfigOption<Duration> POSTGRES_LOCK_TIMEOUT =
      key("tally.postgres.lock-timeout")
          .durationType()
          .defaultValue(Duration.ofSeconds(10))
          .withDescription(
              "lock_timeout of the sink's sessions; a longer wait fails the checkpoint.");

  public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
      key("tally.checkpoint-interval")
          .durationType()
          .defaultValue(Duration.ofSeconds(5))
          .withDescription(
              "Checkpoint interval: rows and freshness become visible once per interval.");

  public static final ConfigOption<Duration> CHECKPOINT_TIMEOUT =
      key("tally.checkpoint-timeout")
          .durationType()
          .defaultValue(Duration.ofMinutes(2))
          .withDescription(
              "A checkpoint that takes longer fails (and, with no tolerated failures, restarts the job).");

  public static final ConfigOption<Duration> MAX_OUT_OF_ORDERNESS =
      key("tally.max-out-of-orderness")
          .durationType()
          .defaultValue(Duration.ofSeconds(10))
          .withDescription("Watermark = max event time − this (per Kafka partition).");

  public static final ConfigOption<Duration> ALLOWED_LATENESS =
      key("tally.allowed-lateness")
          .durationType()
          .defaultValue(Duration.ofMinutes(5))
          .withDescription("A minute window accepts events until its end + this ≤ watermark.");

  public static final ConfigOption<Duration> SOURCE_IDLENESS =
      key("tally.source.idleness")
          .durationType()
          .defaultValue(Duration.ofSeconds(30))
          .withDescription(
              "A partition without records for this long stops holding the watermark back.");

  public static final ConfigOption<Duration> WATERMARK_ALIGNMENT_MAX_DRIFT =
      key("tally.source.watermark-alignment.max-drift")
          .durationType()
          .noDefaultValue()
          .withDescription(
              "Optional: pause reading partitions whose watermark runs more than this ahead of the slowest one (bounds state during backfills). Off by default.");

  public static final ConfigOption<Duration> DEDUP_RETENTION =
      key("tally.dedup.retention")
          .durationType()
          .defaultValue(Duration.ofHours(24))
          .withDescription(
              "How long a (project, uuid) is remembered for deduplication (processing time).");

  public static final ConfigOption<Duration> PERSON_RETENTION =
      key("tally.persons.retention")
          .durationType()
          .noDefaultValue()
          .withDescription(
              "Optional: forget a person this long (processing time) after its last update. Off by default: persons are kept.");

  public static final ConfigOption<List<String>> BREAKDOWNS =
      key("tally.breakdowns")
          .stringType()
          .asList()
          .defaultValues("event:$browser", "person:plan")
          .withDescription("Breakdown specs event:<prop> / person:<prop>, separated by ';'.");

  public static final ConfigOption<Integer> COUNT_CACHED_PERSONS =
      key("tally.count.cached-persons")
          .intType()
          .defaultValue(dev.tally.operators.PipelineSettings.DEFAULT_COUNT_CACHED_PERSONS)
          .withDescription(
              "Person_ids each count subtask keeps in memory with the rows it is counting, so a"
                  + " person new to a row costs no RocksDB lookup (about 130 bytes of heap each);"
                  + " the least recently counted rows are written back first; 0 = off"
                  + " (docs/performance.md finding 32).");

  public static final ConfigOption<Integer> PERSON_CACHE_SIZE =
      key("tally.persons.cache-size")
          .intType()
          .defaultValue(dev.tally.operators.PipelineSettings.DEFAULT_PERSON_CACHE_SIZE)
          .withDescription(
              "Persons (and four times as many distinct_id links) each enrich subtask keeps in"
                  + " memory in front of RocksDB, most recently used first; 0 = off. Not used with"
                  + " tally.persons.retention (docs/performance.md).");

  public static final ConfigOption<Integer> BUNDLE_EVENTS =
      key("tally.aggregation.bundle-events")
          .intType()
          .defaultValue(dev.tally.operators.PipelineSettings.DEFAULT_BUNDLE_EVENTS)
          .withDescription(
              "Hot keys: at most this many records are pre-aggregated in memory in front of the"
                  + " keyed count, ledger and offsets operators (flushed before every watermark and"
                  + " checkpoint, at the latest every 200 ms). 1 turns pre-aggregation off; results"
                  + " are identical either way.");

  /** {@link #PERSONS_LAYOUT} values. */
  public static final String LAYOUT_PROJECT = "project";

  public static final String LAYOUT_DISTINCT_ID = "distinct-id";

  public static final ConfigOption<String> PERSONS_LAYOUT =
      key("tally.persons.layout")
          .stringType()
          .defaultValue(LAYOUT_PROJECT)
          .withDescription(
              "Where person state lives: 'project' (one subtask per project, merges synchronous) or"
                  + " 'distinct-id' (experimental: persons keyed by person id over every subtask,"
                  + " merges through the loop topic; docs/scale-out.md §14). 'distinct-id' needs an"
                  + " unbounded job and does not yet support blue/green from a savepoint.");

  public static final ConfigOption<String> TOPIC_PERSONS_LOOP =
      key("tally.topic.persons-loop")
          .stringType()
          .defaultValue("persons_loop")
          .withDescription(
              "Prefix of the loop topic of the 'distinct-id' persons layout; the topic is"
                  + " <prefix>_<generation>, created by the job if missing (transactional, only the"
                  + " job writes it).");

  public static final ConfigOption<Integer> PERSONS_LOOP_PARTITIONS =
      key("tally.persons.loop-partitions")
          .intType()
          .defaultValue(8)
          .withDescription(
              "Partitions of a loop topic the job creates; never change them while the job runs.");

  public static final ConfigOption<Integer> PARALLELISM =
      key("tally.parallelism").intType().defaultValue(2).withDescription("Parallelism of the job.");

  private JobOptions() {}
}
