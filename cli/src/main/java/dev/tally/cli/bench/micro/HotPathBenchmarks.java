package dev.tally.cli.bench.micro;

import dev.tally.avro.PersonState;
import dev.tally.avro.RawEvent;
import dev.tally.cli.traffic.GeneratedEvent;
import dev.tally.cli.traffic.TrafficGenerator;
import dev.tally.operators.functions.Contribution;
import dev.tally.operators.functions.ToContributions;
import dev.tally.operators.json.Json;
import dev.tally.operators.model.EnrichedRecord;
import dev.tally.operators.model.ParsedRecord;
import dev.tally.operators.model.TallyRow;
import dev.tally.operators.model.ValidEvent;
import dev.tally.operators.persons.PersonModel;
import dev.tally.operators.validation.EventValidator;
import dev.tally.sinks.kafka.AvroCodec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.util.Collector;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The per-event CPU cost of each step of the pipeline's hot path, on one thread, for the same
 * generated traffic the benchmark drains ({@code ./tally bench --phases micro}). Each benchmark
 * handles one event (cycling through 4,096 generated ones), so its time is directly comparable with
 * the pipeline's time per event per core. What JMH cannot see — RocksDB, Kafka transactions,
 * checkpoints, the network stack and the other processes on the machine — is the difference.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HotPathBenchmarks {
  private static final int EVENTS = 4096;

  private byte[][] raw;
  private ValidEvent[] valid;
  private EnrichedRecord[] enriched;
  private TallyRow[] rows;
  private int next;

  private TypeSerializer<ValidEvent> validSerializer;
  private TypeSerializer<Contribution> contributionSerializer;
  private TypeSerializer<TallyRow> rowSerializer;
  private final DataOutputSerializer buffer = new DataOutputSerializer(4096);
  private final DataInputDeserializer input = new DataInputDeserializer();
  private ToContributions contributions;
  private final List<Contribution> emitted = new ArrayList<>();
  private final Collector<Contribution> collector =
      new Collector<>() {
        @Override
        public void collect(Contribution c) {
          emitted.add(c);
        }

        @Override
        public void close() {}
      };
  private TypeSerializer<PersonState> personSerializer;
  private PersonState[] samplePersons;
  private Map<String, String> links;
  private Map<String, PersonState> persons;

  @Setup(Level.Trial)
  public void generate() throws Exception {
    TrafficGenerator generator =
        new TrafficGenerator(1, Instant.parse("2026-11-23T00:00:00Z"), 1000, 5000);
    List<byte[]> bytes = new ArrayList<>();
    List<ValidEvent> events = new ArrayList<>();
    while (events.size() < EVENTS) {
      GeneratedEvent g = generator.next(1).get(0);
      ParsedRecord p = EventValidator.parseAvro(g.avro(), "raw");
      if (p.isValid()) {
        bytes.add(g.avro());
        events.add(p.valid);
      }
    }
    raw = bytes.toArray(byte[][]::new);
    valid = events.toArray(ValidEvent[]::new);
    enriched = new EnrichedRecord[EVENTS];
    rows = new TallyRow[EVENTS];
    for (int i = 0; i < EVENTS; i++) {
      enriched[i] = new EnrichedRecord(valid[i], "p-" + i % 5000, "{\"plan\":\"pro\"}");
      rows[i] =
          TallyRow.eventCount(
              valid[i].project, TallyRow.MINUTE, valid[i].timestampMillis, valid[i].event);
      rows[i].events = i;
      rows[i].persons = i / 2;
      rows[i].revision = i;
    }
    SerializerConfigImpl config = new SerializerConfigImpl();
    validSerializer = TypeInformation.of(ValidEvent.class).createSerializer(config);
    contributionSerializer = TypeInformation.of(Contribution.class).createSerializer(config);
    rowSerializer = TypeInformation.of(TallyRow.class).createSerializer(config);
    contributions = new ToContributions(List.of("event:$browser", "person:plan"), true);
    personSerializer =
        new org.apache.flink.formats.avro.typeutils.AvroTypeInfo<>(PersonState.class)
            .createSerializer(config);
    samplePersons = new PersonState[64];
    for (int i = 0; i < samplePersons.length; i++) {
      samplePersons[i] =
          PersonState.newBuilder()
              .setPersonId(java.util.UUID.nameUUIDFromBytes(new byte[] {(byte) i}).toString())
              .setProperties("{\"plan\":\"pro\",\"first_seen\":\"2026-11-23T00:00:00Z\"}")
              .setDistinctIds(List.of("user-" + i, "anon-" + i))
              .setIsIdentified(i % 2 == 0)
              .setCreatedAt(1_795_435_200_000L + i)
              .build();
    }
    links = new HashMap<>();
    persons = new HashMap<>();
  }

  private int index() {
    next = (next + 1) & (EVENTS - 1);
    return next;
  }

  /** What the ceiling does per record: Avro-decode the raw event. */
  @Benchmark
  public RawEvent avroDecode() throws Exception {
    return AvroCodec.decode(raw[index()], RawEvent.class);
  }

  /** Decode and validate (SEMANTICS.md §1), as the source's deserializer does. */
  @Benchmark
  public ParsedRecord decodeAndValidate() {
    return EventValidator.parseAvro(raw[index()], "raw");
  }

  /** The person rules (§4) against an in-memory store: properties parse, lookups, updates. */
  @Benchmark
  public PersonModel.Outcome personRules() throws Exception {
    ValidEvent e = valid[index()];
    return PersonModel.apply(store(), e, Json.parseTrustedObject(e.propertiesJson), 1000);
  }

  /**
   * The shuffle by project between validation and dedup: a ValidEvent through Flink's POJO
   * serializer.
   */
  @Benchmark
  public ValidEvent shuffleValidEvent() throws Exception {
    buffer.clear();
    validSerializer.serialize(valid[index()], buffer);
    input.setBuffer(buffer.getSharedBuffer(), 0, buffer.length());
    return validSerializer.deserialize(input);
  }

  /** Minute, hour, breakdown and daily contributions of one enriched event. */
  @Benchmark
  public int toContributions() throws Exception {
    emitted.clear();
    contributions.flatMap(enriched[index()], collector);
    return emitted.size();
  }

  /** The shuffle to the keyed counts: the contributions of one event through Flink's serializer. */
  @Benchmark
  public int shuffleContributions() throws Exception {
    emitted.clear();
    contributions.flatMap(enriched[index()], collector);
    for (Contribution c : emitted) {
      buffer.clear();
      contributionSerializer.serialize(c, buffer);
      input.setBuffer(buffer.getSharedBuffer(), 0, buffer.length());
      contributionSerializer.deserialize(input);
    }
    return emitted.size();
  }

  /**
   * A person's state as RocksDB stores it on every event (read, then write after the rules): the
   * job's own Avro state serializer, round trip. The lookups themselves are not included.
   */
  @Benchmark
  public PersonState personStateReadWrite() throws Exception {
    PersonState p = samplePersons[index() & (samplePersons.length - 1)];
    buffer.clear();
    personSerializer.serialize(p, buffer);
    input.setBuffer(buffer.getSharedBuffer(), 0, buffer.length());
    return personSerializer.deserialize(input);
  }

  /** The enriched event as the Kafka sink writes it: Avro with the generation. */
  @Benchmark
  public byte[] encodeEnrichedForKafka() {
    return AvroCodec.encode(AvroCodec.toAvro(enriched[index()], "g1"));
  }

  /** One aggregate row revision through the shuffle to the PostgreSQL sink. */
  @Benchmark
  public TallyRow shuffleRow() throws Exception {
    buffer.clear();
    rowSerializer.serialize(rows[index()], buffer);
    input.setBuffer(buffer.getSharedBuffer(), 0, buffer.length());
    return rowSerializer.deserialize(input);
  }

  private PersonModel.Store store() {
    return new PersonModel.Store() {
      @Override
      public String personIdOf(String distinctId) {
        return links.get(distinctId);
      }

      @Override
      public PersonState get(String personId) {
        return persons.get(personId);
      }

      @Override
      public void put(PersonState person) {
        persons.put(person.getPersonId(), person);
      }

      @Override
      public void remove(String personId) {
        persons.remove(personId);
      }

      @Override
      public void link(String distinctId, String personId) {
        links.put(distinctId, personId);
      }
    };
  }
}
