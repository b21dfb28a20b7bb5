package dev.tally.savepoints;

import dev.tally.avro.PersonState;
import dev.tally.operators.functions.EnrichWithPerson;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.formats.avro.typeutils.AvroTypeInfo;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.OperatorTransformation;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.api.functions.KeyedStateBootstrapFunction;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

/**
 * The person state of the enrichment operator in a savepoint, through Flink's State Processor API
 * on the RocksDB backend: write persons into a new savepoint (bootstrap) and read them back
 * (inspect). Uses the operator's own state descriptors ({@link
 * EnrichWithPerson#personsDescriptor()}), so what is written is exactly what the job restores.
 *
 * <p>Requires: the job's person retention off (retention wraps the state in TTL serializers), and
 * the same max parallelism for the savepoint and the job that starts from it.
 */
public final class PersonsSavepoint {
  /** Records of person state: (project, person). */
  public static final TypeInformation<Tuple2<String, PersonState>> PROJECT_PERSON =
      Types.TUPLE(Types.STRING, new AvroTypeInfo<>(PersonState.class));

  /** Flink's default max parallelism for jobs up to parallelism 128. */
  public static final int DEFAULT_MAX_PARALLELISM = 128;

  private PersonsSavepoint() {}

  /**
   * Adds a job that writes {@code persons} as the keyed state of operator {@code enrichUid} into a
   * new savepoint at {@code path}; run it with {@code env.execute()}.
   */
  public static void write(
      StreamExecutionEnvironment env,
      DataStream<Tuple2<String, PersonState>> persons,
      String enrichUid,
      int maxParallelism,
      String path) {
    SavepointWriter.newSavepoint(env, new EmbeddedRocksDBStateBackend(), maxParallelism)
        .withOperator(
            OperatorIdentifier.forUid(enrichUid),
            OperatorTransformation.bootstrapWith(persons)
                .keyBy(p -> p.f0, Types.STRING)
                .transform(new WritePersons()))
        .write(path);
  }

  /**
   * Adds a job that validates {@code rows} of an existing persons table ({@link PersonRows}) and
   * writes the valid ones as the person state of operator {@code enrichUid} into a new savepoint;
   * run it with {@code env.execute()} and read the counts with {@link #counts}.
   */
  public static void bootstrap(
      StreamExecutionEnvironment env,
      DataStream<PersonRows.Row> rows,
      String enrichUid,
      int maxParallelism,
      String path) {
    write(
        env,
        rows.process(new PersonRows.Validate())
            .returns(PROJECT_PERSON)
            .name("validate rows")
            .keyBy(p -> p.f0, Types.STRING)
            .process(new PersonRows.RejectSecondClaims())
            .returns(PROJECT_PERSON)
            .name("one person per distinct_id"),
        enrichUid,
        maxParallelism,
        path);
  }

  /** What a bootstrap job did: rows read, persons written, rows rejected and why (a sample). */
  public record Counts(long rows, long written, long rejected, List<String> reasons) {}

  public static Counts counts(org.apache.flink.api.common.JobExecutionResult result) {
    List<String> reasons = new java.util.ArrayList<>();
    for (String name : List.of(PersonRows.REASONS, PersonRows.CLAIM_REASONS)) {
      List<String> r = result.getAccumulatorResult(name);
      if (r != null) {
        reasons.addAll(r);
      }
    }
    return new Counts(
        longOf(result, PersonRows.ROWS),
        longOf(result, PersonRows.WRITTEN),
        longOf(result, PersonRows.REJECTED) + longOf(result, PersonRows.CLAIMS_REJECTED),
        reasons);
  }

  private static long longOf(org.apache.flink.api.common.JobExecutionResult result, String name) {
    Long v = result.getAccumulatorResult(name);
    return v == null ? 0 : v;
  }

  /** The persons held by operator {@code enrichUid} in the savepoint at {@code path}. */
  public static DataStream<Tuple2<String, PersonState>> read(
      StreamExecutionEnvironment env, String path, String enrichUid) throws java.io.IOException {
    return SavepointReader.read(env, path, new EmbeddedRocksDBStateBackend())
        .readKeyedState(
            OperatorIdentifier.forUid(enrichUid), new ReadPersons(), Types.STRING, PROJECT_PERSON);
  }

  /** Writes each person and links each of its distinct_ids to it. */
  static final class WritePersons
      extends KeyedStateBootstrapFunction<String, Tuple2<String, PersonState>> {
    private transient MapState<String, PersonState> persons;
    private transient MapState<String, String> personIdByDistinctId;

    @Override
    public void open(OpenContext openContext) {
      // No accumulators here: registering one in a bootstrap function leaves the savepoint empty
      // (Flink 2.2); rows are counted and checked upstream (PersonRows).
      persons = getRuntimeContext().getMapState(EnrichWithPerson.personsDescriptor());
      personIdByDistinctId =
          getRuntimeContext().getMapState(EnrichWithPerson.personIdByDistinctIdDescriptor());
    }

    @Override
    public void processElement(Tuple2<String, PersonState> value, Context ctx) throws Exception {
      PersonState person = value.f1;
      persons.put(person.getPersonId(), person);
      for (CharSequence distinctId : person.getDistinctIds()) {
        personIdByDistinctId.put(distinctId.toString(), person.getPersonId());
      }
    }
  }

  /** Emits every person of a project. */
  static final class ReadPersons
      extends KeyedStateReaderFunction<String, Tuple2<String, PersonState>> {
    private transient MapState<String, PersonState> persons;

    @Override
    public void open(OpenContext openContext) {
      persons = getRuntimeContext().getMapState(EnrichWithPerson.personsDescriptor());
    }

    @Override
    public void readKey(String project, Context ctx, Collector<Tuple2<String, PersonState>> out)
        throws Exception {
      for (PersonState p : persons.values()) {
        out.collect(Tuple2.of(project, p));
      }
    }
  }
}
