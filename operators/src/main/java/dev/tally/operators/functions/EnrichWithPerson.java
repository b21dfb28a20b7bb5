package dev.tally.operators.functions;

import dev.tally.avro.PersonState;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.DeadLetterRecord;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.LedgerEntry;
import dev.tally.operators.model.PersonSnapshot;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonCache;
import dev.tally.operators.persons.PersonModel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Resolves each event's person and applies its person updates (SEMANTICS.md §4), keyed by project:
 * a project's persons live in one key group, so a merge across distinct_ids is one synchronous,
 * deterministic state change (docs/decisions.md, "person state keyed by project"). State: {@code
 * distinct_id → person_id} and {@code person_id → PersonState} (Avro, evolvable). Too-late events
 * update persons too; lateness is decided downstream.
 */
public class EnrichWithPerson extends KeyedProcessFunction<String, ValidEvent, EnrichedRecord> {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(EnrichWithPerson.class);
  private final boolean emitSnapshots;
  private final int maxProperties;
  private final int maxPropertiesBytes;
  private final java.time.Duration retention;
  private final int cacheSize;
  private transient PersonCache cache;
  private transient Counter propertiesCapped;
  private transient Counter processingErrors;
  private transient MapState<String, String> personIdByDistinctId;
  private transient MapState<String, PersonState> persons;
  private transient Counter mergeRefused;
  private transient Counter merges;

  /**
   * @param emitSnapshots emit person snapshots to {@link Tags#PERSONS} (replay)
   * @param maxProperties properties kept per person ({@link PersonModel#UNLIMITED} in replay)
   */
  public EnrichWithPerson(boolean emitSnapshots, int maxProperties, java.time.Duration retention) {
    this(emitSnapshots, maxProperties, retention, 0);
  }

  /**
   * @param cacheSize persons kept in a {@link PersonCache} in front of the state (0: none); ignored
   *     under {@code retention}, whose TTL a cache would bypass
   */
  public EnrichWithPerson(
      boolean emitSnapshots, int maxProperties, java.time.Duration retention, int cacheSize) {
    this(emitSnapshots, maxProperties, PersonModel.UNLIMITED, retention, cacheSize);
  }

  /**
   * @param maxPropertiesBytes bytes of JSON a person's properties may take ({@link
   *     PersonModel#UNLIMITED} in replay)
   */
  public EnrichWithPerson(
      boolean emitSnapshots,
      int maxProperties,
      int maxPropertiesBytes,
      java.time.Duration retention,
      int cacheSize) {
    this.emitSnapshots = emitSnapshots;
    this.maxProperties = maxProperties;
    this.maxPropertiesBytes = maxPropertiesBytes;
    this.retention = retention;
    this.cacheSize = cacheSize;
  }

  private <K, V> MapStateDescriptor<K, V> withRetention(MapStateDescriptor<K, V> d) {
    if (retention != null) {
      d.enableTimeToLive(
          org.apache.flink.api.common.state.StateTtlConfig.newBuilder(retention)
              .setUpdateType(
                  org.apache.flink.api.common.state.StateTtlConfig.UpdateType.OnCreateAndWrite)
              .setStateVisibility(
                  org.apache.flink.api.common.state.StateTtlConfig.StateVisibility
                      .NeverReturnExpired)
              .cleanupInRocksdbCompactFilter(1000)
              .build());
    }
    return d;
  }

  /**
   * Keyed state {@code distinct_id → person_id} (key: project). Part of the savepoint contract
   * together with {@link #personsDescriptor()}: the savepoint tooling reads and writes it.
   */
  public static MapStateDescriptor<String, String> personIdByDistinctIdDescriptor() {
    return new MapStateDescriptor<>("person-id-by-distinct-id", Types.STRING, Types.STRING);
  }

  /** Keyed state {@code person_id → PersonState} (key: project), Avro so it can evolve. */
  public static MapStateDescriptor<String, PersonState> personsDescriptor() {
    return new MapStateDescriptor<>(
        PERSONS_STATE, Types.STRING, new AvroTypeInfo<>(PersonState.class));
  }

  /** Name of the persons state (its serializer is the Avro serializer of PersonState). */
  public static final String PERSONS_STATE = "persons";

  @Override
  public void open(OpenContext openContext) {
    personIdByDistinctId =
        getRuntimeContext().getMapState(withRetention(personIdByDistinctIdDescriptor()));
    persons = getRuntimeContext().getMapState(withRetention(personsDescriptor()));
    mergeRefused = getRuntimeContext().getMetricGroup().counter("tallyPersonMergeRefused");
    merges = getRuntimeContext().getMetricGroup().counter("tallyPersonMerges");
    propertiesCapped = getRuntimeContext().getMetricGroup().counter("tallyPersonPropertiesCapped");
    processingErrors = getRuntimeContext().getMetricGroup().counter("tallyProcessingErrors");
    if (retention == null && cacheSize > 0) {
      PersonCache personCache = new PersonCache(cacheSize);
      cache = personCache;
      getRuntimeContext()
          .getMetricGroup()
          .gauge("tallyPersonCacheHitRate", (Gauge<Double>) personCache::hitRate);
    }
  }

  @Override
  public void processElement(ValidEvent event, Context ctx, Collector<EnrichedRecord> out)
      throws Exception {
    PersonModel.Outcome outcome;
    try {
      outcome = resolve(event);
    } catch (org.apache.flink.util.FlinkRuntimeException e) {
      throw e; // the state backend failed, not the event: restart from the checkpoint
    } catch (RuntimeException e) {
      // A poison event must not become a restart loop: dead-letter it, keep the ledger balanced.
      processingErrors.inc();
      LOG.warn("processing {} failed; dead-lettered: {}", event, e.toString());
      ctx.output(
          Tags.DEAD_LETTERS,
          new DeadLetterRecord(
              "processing_error:" + e.getClass().getSimpleName(),
              event.toOriginalJson().getBytes(StandardCharsets.UTF_8),
              event.project + "/" + event.uuid));
      ctx.output(Tags.LEDGER, LedgerEntry.processingError(event));
      return;
    }
    if (outcome.propertiesCapped()) {
      propertiesCapped.inc();
      ctx.output(
          Tags.WARNINGS,
          TallyRow.warning(
              event.project, event.timestampMillis, TallyRow.WARNING_PROPERTIES_CAPPED));
    }
    if (outcome.mergeRefused()) {
      mergeRefused.inc();
      LOG.debug(
          "person merge refused (the anonymous side is already identified): {}/{}",
          event.project,
          event.uuid);
      ctx.output(
          Tags.WARNINGS,
          TallyRow.warning(event.project, event.timestampMillis, TallyRow.WARNING_MERGE_REFUSED));
    }
    if (outcome.mergedAway() != null) {
      merges.inc();
    }
    PersonState person = outcome.person();
    out.collect(new EnrichedRecord(event, person.getPersonId(), person.getProperties()));
    if (emitSnapshots) {
      ctx.output(Tags.PERSONS, snapshot(event.project, person, false));
      if (outcome.mergedAway() != null) {
        ctx.output(Tags.PERSONS, snapshot(event.project, outcome.mergedAway(), true));
      }
    }
  }

  /** Applies the person rules; overridable only so tests can inject a failure. */
  protected PersonModel.Outcome resolve(ValidEvent event) throws Exception {
    Map<String, Object> props = Json.parseTrustedObject(event.propertiesJson);
    PersonModel.Store store = cache == null ? store() : cache.over(event.project, store());
    PersonModel.Outcome outcome =
        PersonModel.apply(store, event, props, maxProperties, maxPropertiesBytes);
    if (retention != null) {
      // Retention counts from a person's last event (TTL on write): refresh the person and the
      // event's own link even when the event changed nothing, so neither expires under an active
      // distinct_id (an expired link would start a new person and overwrite this one).
      PersonState person = outcome.person();
      if (!outcome.personWritten()) {
        persons.put(person.getPersonId(), person);
      }
      personIdByDistinctId.put(event.distinctId, person.getPersonId());
    }
    return outcome;
  }

  private static PersonSnapshot snapshot(String project, PersonState p, boolean removed) {
    PersonSnapshot s = new PersonSnapshot();
    s.project = project;
    s.personId = p.getPersonId();
    s.distinctIds = new ArrayList<>(p.getDistinctIds());
    s.propertiesJson = p.getProperties();
    s.identified = p.getIsIdentified();
    s.removed = removed;
    return s;
  }

  private PersonModel.Store store() {
    return new PersonModel.Store() {
      @Override
      public String personIdOf(String distinctId) throws Exception {
        return personIdByDistinctId.get(distinctId);
      }

      @Override
      public PersonState get(String personId) throws Exception {
        return persons.get(personId);
      }

      @Override
      public void put(PersonState person) throws Exception {
        persons.put(person.getPersonId(), person);
      }

      @Override
      public void remove(String personId) throws Exception {
        persons.remove(personId);
      }

      @Override
      public void link(String distinctId, String personId) throws Exception {
        personIdByDistinctId.put(distinctId, personId);
      }
    };
  }
}
