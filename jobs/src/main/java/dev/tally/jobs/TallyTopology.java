package dev.tally.jobs;

import dev.tally.operators.PipelineSettings;
import dev.tally.operators.functions.ApplyToPerson;
import dev.tally.operators.functions.Bundles;
import dev.tally.operators.functions.ClassifyLateness;
import dev.tally.operators.functions.Contribution;
import dev.tally.operators.functions.CountEventsAndPersons;
import dev.tally.operators.functions.Deduplicate;
import dev.tally.operators.functions.EnrichWithPerson;
import dev.tally.operators.functions.MarkProgress;
import dev.tally.operators.functions.PreAggregate;
import dev.tally.operators.functions.RestoreSplitOrder;
import dev.tally.operators.functions.RouteByDistinctId;
import dev.tally.operators.functions.RouteRecords;
import dev.tally.operators.functions.SumLedger;
import dev.tally.operators.functions.SumWarnings;
import dev.tally.operators.functions.Tags;
import dev.tally.operators.functions.ToContributions;
import dev.tally.operators.functions.TrackOffsets;
import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.PersonSnapshot;
import dev.tally.operators.model.Sequenced;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.merge.LoopRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The Tally pipeline as one method over its sources and sinks, so the streaming job, {@code tally
 * replay} and the tests run the same topology with different I/O.
 *
 * <pre>
 * source ─ route ─┬─ dead letters ─────────────────────────────────────────────→ deadLetters
 *                 └─ dedup (uuid) ─ order (split) ─ enrich (project) ─┬────────→ enriched
 *                                                  └─ lateness ─┬─ too late ───→ tooLate
 *                                                               └─ rows ─ bundle ─ count ─┐
 *   ledger entries (route, dedup, enrich, lateness) ─ bundle ─ sum ledger ───────────────┤
 *   positions (route) ─ bundle ─ track offsets; warnings (enrich) ─ sum ─────────────────┴→ aggregates
 * </pre>
 *
 * Every stateful operator has a stable uid ({@link Uids}); changing one orphans its state in
 * savepoints.
 */
public final class TallyTopology {

  /** Where the pipeline writes. {@code persons} may be null (only replay needs snapshots). */
  public record Sinks(
      Sink<EnrichedRecord> enriched,
      Sink<DeadLetterRecord> deadLetters,
      Sink<EnrichedRecord> tooLate,
      Sink<TallyRow> aggregates,
      Sink<PersonSnapshot> persons) {}

  /**
   * The person protocol's loop (docs/scale-out.md §14): a source reading the loop topic
   * (read_committed) and an exactly-once sink writing it. Given, persons are keyed below the
   * project ({@code tally.persons.layout = distinct-id}); null, by project.
   */
  public record Loop(Source<LoopRecord, ?, ?> source, Sink<LoopRecord> sink) {}

  /** Operator uids: part of the savepoint compatibility contract, never rename. */
  public static final class Uids {
    public static final String SOURCE = "source-events";
    public static final String ROUTE = "route-records";
    public static final String MARK_PROGRESS = "mark-progress";

    /**
     * Dedup by (project, uuid). The project-keyed dedup of before issue 15 had the uid {@link
     * #RETIRED_DEDUP}; its state cannot be re-keyed in place (docs/scale-out.md §8).
     */
    public static final String DEDUP = "dedup-uuid";

    public static final String RETIRED_DEDUP = "dedup";
    public static final String ORDER = "restore-split-order";
    public static final String ENRICH = "enrich-persons";

    /** The distinct-id persons layout (docs/scale-out.md §14). */
    public static final String LINKS = "links-by-distinct-id";

    public static final String PERSONS = "persons-by-person-id";
    public static final String SOURCE_LOOP = "source-persons-loop";
    public static final String SINK_LOOP = "sink-persons-loop";
    public static final String LATENESS = "classify-lateness";
    public static final String CONTRIBUTIONS = "to-contributions";
    public static final String PRE_AGGREGATE = "pre-aggregate";
    public static final String PRE_AGGREGATE_LEDGER = "pre-aggregate-ledger";
    public static final String PRE_AGGREGATE_OFFSETS = "pre-aggregate-offsets";
    public static final String COUNT = "count-events-persons";
    public static final String LEDGER = "sum-ledger";
    public static final String OFFSETS = "track-offsets";
    public static final String WARNINGS = "sum-warnings";
    public static final String SINK_ENRICHED = "sink-enriched";
    public static final String SINK_DEAD_LETTERS = "sink-dead-letters";
    public static final String SINK_TOO_LATE = "sink-too-late";
    public static final String SINK_AGGREGATES = "sink-aggregates";
    public static final String SINK_PERSONS = "sink-persons";

    private Uids() {}
  }

  private TallyTopology() {}

  /** Bundles records per key in front of a keyed operator (hot keys; see {@link PreAggregate}). */
  private static <I, A, O> PreAggregate<I, A, O> bundled(
      PipelineSettings settings,
      org.apache.flink.api.java.functions.KeySelector<I, String> key,
      org.apache.flink.api.common.functions.AggregateFunction<I, A, O> aggregate) {
    return new PreAggregate<>(
        key, aggregate, settings.bundleEvents(), PipelineSettings.MAX_BUNDLE_DELAY_MILLIS);
  }

  /** The ledger entries of {@code producer}, pre-aggregated in its own task. */
  private static DataStream<LedgerEntry> ledgerBundle(
      SingleOutputStreamOperator<?> producer, PipelineSettings settings, String what) {
    return producer
        .getSideOutput(Tags.LEDGER)
        .transform(
            "pre-aggregate ledger of " + what,
            TypeInformation.of(LedgerEntry.class),
            bundled(settings, LedgerEntry::key, new Bundles.Ledger()))
        .uid(Uids.PRE_AGGREGATE_LEDGER + "-" + what)
        .name("pre-aggregate ledger of " + what);
  }

  /**
   * LINKS by (project, distinct_id) and PERSONS by (project, person id), with the loop topic
   * between them and back (docs/scale-out.md §14).
   */
  private static SingleOutputStreamOperator<EnrichedRecord> personsBelowTheProject(
      StreamExecutionEnvironment env,
      DataStream<ValidEvent> inOrder,
      PipelineSettings settings,
      Loop loop) {
    DataStream<LoopRecord> fromLoop =
        env.fromSource(loop.source(), WatermarkStrategy.noWatermarks(), "persons loop")
            .uid(Uids.SOURCE_LOOP)
            .name("persons loop");
    SingleOutputStreamOperator<LoopRecord> routed =
        inOrder
            .keyBy(e -> LoopRecord.key(e.project, e.distinctId), Types.STRING)
            .connect(
                fromLoop
                    .filter(r -> r.to == LoopRecord.TO_LINKS)
                    .uid(Uids.SOURCE_LOOP + "-to-links")
                    .name("to links")
                    .keyBy(r -> r.key, Types.STRING))
            .transform(
                "route by distinct_id",
                TypeInformation.of(LoopRecord.class),
                new RouteByDistinctId())
            .uid(Uids.LINKS)
            .name("route by distinct_id");
    SingleOutputStreamOperator<EnrichedRecord> enriched =
        routed
            .keyBy(r -> r.key, Types.STRING)
            .connect(
                fromLoop
                    .filter(r -> r.to == LoopRecord.TO_PERSONS)
                    .uid(Uids.SOURCE_LOOP + "-to-persons")
                    .name("to persons")
                    .keyBy(r -> r.key, Types.STRING))
            .transform(
                "apply to person",
                TypeInformation.of(EnrichedRecord.class),
                new ApplyToPerson(
                    settings.maxPersonProperties(), settings.maxPersonPropertiesBytes()))
            .uid(Uids.PERSONS)
            .name("apply to person");
    enriched
        .getSideOutput(ApplyToPerson.LOOP)
        .sinkTo(loop.sink())
        .uid(Uids.SINK_LOOP)
        .name("persons loop writer");
    return enriched;
  }

  private static String partitionOf(ParsedRecord position) {
    return position.topic + '\u0000' + position.partition;
  }

  public static void build(
      StreamExecutionEnvironment env,
      Source<ParsedRecord, ?, ?> source,
      WatermarkStrategy<ParsedRecord> watermarks,
      PipelineSettings settings,
      Sinks sinks) {
    build(env, source, watermarks, settings, sinks, null);
  }

  /** As above; with a {@code loop}, persons are keyed below the project (§14). */
  public static void build(
      StreamExecutionEnvironment env,
      Source<ParsedRecord, ?, ?> source,
      WatermarkStrategy<ParsedRecord> watermarks,
      PipelineSettings settings,
      Sinks sinks,
      Loop loop) {

    DataStream<ParsedRecord> records =
        env.fromSource(source, watermarks, "events").uid(Uids.SOURCE).name("events");

    SingleOutputStreamOperator<Sequenced> valid =
        records.process(new RouteRecords()).uid(Uids.ROUTE).name("validate and route");

    // Dedup by (project, uuid) spreads one project over every subtask; the order stage then puts
    // each split back in the order it was read, which the person rules need (decision 22,
    // docs/scale-out.md §3a). The markers that make that possible ride the data channels.
    SingleOutputStreamOperator<Sequenced> unique =
        valid
            .transform(
                "mark progress",
                TypeInformation.of(Sequenced.class),
                new MarkProgress(PipelineSettings.ORDER_MARKER_INTERVAL_MILLIS))
            .uid(Uids.MARK_PROGRESS)
            .name("mark progress")
            .keyBy(Sequenced::dedupKey, Types.STRING)
            .process(new Deduplicate(settings.dedupRetention()))
            .uid(Uids.DEDUP)
            .name("deduplicate");

    DataStream<ValidEvent> inOrder =
        unique
            .keyBy(s -> s.split, Types.STRING)
            .transform(
                "restore split order",
                TypeInformation.of(ValidEvent.class),
                new RestoreSplitOrder())
            .uid(Uids.ORDER)
            .name("restore split order");

    SingleOutputStreamOperator<EnrichedRecord> enriched =
        loop == null
            ? inOrder
                .keyBy(e -> e.project, Types.STRING)
                .process(
                    new EnrichWithPerson(
                        settings.emitPersonSnapshots(),
                        settings.maxPersonProperties(),
                        settings.maxPersonPropertiesBytes(),
                        settings.personRetention(),
                        settings.personCacheSize()))
                .uid(Uids.ENRICH)
                .name("enrich with person")
            : personsBelowTheProject(env, inOrder, settings, loop);

    // In the distinct-id layout a re-routed event is applied on a subtask whose own watermark may
    // have passed it (only the tomb that bounced it held the watermark back): lateness is judged
    // behind a shuffle, against the minimum over every persons subtask (docs/scale-out.md §14).
    DataStream<EnrichedRecord> toClassify = loop == null ? enriched : enriched.rebalance();
    SingleOutputStreamOperator<EnrichedRecord> onTime =
        toClassify
            .transform(
                "classify lateness",
                TypeInformation.of(EnrichedRecord.class),
                new ClassifyLateness(settings.allowedLateness()))
            .uid(Uids.LATENESS)
            .name("classify lateness");

    DataStream<TallyRow> counts =
        onTime
            .flatMap(new ToContributions(settings.breakdowns(), settings.dailyActive()))
            .uid(Uids.CONTRIBUTIONS)
            .name("rows of each event")
            .transform(
                "pre-aggregate rows",
                TypeInformation.of(Contribution.class),
                // behind the project shuffle and in front of the count, which cleans windows up
                // by watermark: it must never see this input as idle (PreAggregate)
                new PreAggregate<>(
                    Contribution::key,
                    new Bundles.Contributions(),
                    settings.bundleEvents(),
                    PipelineSettings.MAX_BUNDLE_DELAY_MILLIS,
                    true))
            .uid(Uids.PRE_AGGREGATE)
            .name("pre-aggregate rows")
            .keyBy(c -> c.key(), Types.STRING)
            .transform(
                "count events and persons",
                TypeInformation.of(TallyRow.class),
                new CountEventsAndPersons(
                    settings.allowedLateness(), settings.countCachedPersons()))
            .uid(Uids.COUNT)
            .name("count events and persons");

    // Ledger entries are bundled where they are produced (chained, before any shuffle).
    DataStream<TallyRow> ledger =
        ledgerBundle(valid, settings, "route")
            .union(
                ledgerBundle(unique, settings, "dedup"),
                ledgerBundle(enriched, settings, "enrich"),
                ledgerBundle(onTime, settings, "lateness"))
            .keyBy(e -> e.key(), Types.STRING)
            .process(new SumLedger())
            .uid(Uids.LEDGER)
            .name("sum ledger");

    DataStream<TallyRow> warnings =
        enriched
            .getSideOutput(Tags.WARNINGS)
            .keyBy(r -> r.key(), Types.STRING)
            .process(new SumWarnings())
            .uid(Uids.WARNINGS)
            .name("sum warnings");

    DataStream<TallyRow> offsets =
        valid
            .getSideOutput(Tags.POSITIONS)
            .transform(
                "pre-aggregate offsets",
                TypeInformation.of(TallyRow.class),
                bundled(settings, TallyTopology::partitionOf, new Bundles.Offsets()))
            .uid(Uids.PRE_AGGREGATE_OFFSETS)
            .name("pre-aggregate offsets")
            .keyBy(r -> r.key(), Types.STRING)
            .process(new TrackOffsets())
            .uid(Uids.OFFSETS)
            .name("track source offsets");

    // keyBy the row key right before the sink: one subtask owns each row (no upsert races).
    counts
        .union(ledger, offsets, warnings)
        .keyBy(r -> r.key(), Types.STRING)
        .sinkTo(sinks.aggregates())
        .uid(Uids.SINK_AGGREGATES)
        .name("aggregates + ledger + watermark");

    enriched.sinkTo(sinks.enriched()).uid(Uids.SINK_ENRICHED).name("enriched events");
    valid
        .getSideOutput(Tags.DEAD_LETTERS)
        .union(enriched.getSideOutput(Tags.DEAD_LETTERS))
        .sinkTo(sinks.deadLetters())
        .uid(Uids.SINK_DEAD_LETTERS)
        .name("dead letters");
    onTime
        .getSideOutput(Tags.TOO_LATE)
        .sinkTo(sinks.tooLate())
        .uid(Uids.SINK_TOO_LATE)
        .name("too-late events");
    if (sinks.persons() != null) {
      enriched
          .getSideOutput(Tags.PERSONS)
          .sinkTo(sinks.persons())
          .uid(Uids.SINK_PERSONS)
          .name("person snapshots");
    }
  }
}
