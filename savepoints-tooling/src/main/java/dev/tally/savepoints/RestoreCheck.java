package dev.tally.savepoints;

import dev.tally.operators.functions.EnrichWithPerson;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/**
 * The serializer half of {@code tally check}: restores the long-lived keyed state of a savepoint
 * (persons and their distinct_id links) with the state descriptors of the code on this JVM's
 * classpath — run with the new job jar first on the classpath, so it is the new release's
 * PersonState and serializers that must accept the old bytes. Flink's own compatibility check (Avro
 * schema evolution for PersonState) decides; an incompatible change fails here instead of at the
 * start of the upgraded job.
 *
 * <p>Prints one {@code PROBLEM <text>} line per problem and exits 1 if there is any, 0 otherwise.
 */
public final class RestoreCheck {
  private RestoreCheck() {}

  public static void main(String[] args) throws Exception {
    List<String> problems = problems(args[0], args[1]);
    problems.forEach(p -> System.out.println("PROBLEM " + p));
    System.out.println("CHECKED persons state of " + args[1]);
    System.exit(problems.isEmpty() ? 0 : 1);
  }

  /** What prevents the persons state of {@code enrichUid} from restoring with this classpath. */
  public static List<String> problems(String savepoint, String enrichUid) throws Exception {
    List<String> problems = new ArrayList<>();
    if (!SavepointInspection.metadata(savepoint).has(enrichUid)) {
      return problems; // no persons state: nothing to be incompatible with
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    try (CloseableIterator<Long> it =
        SavepointReader.read(env, savepoint, new EmbeddedRocksDBStateBackend())
            .readKeyedState(
                OperatorIdentifier.forUid(enrichUid), new TouchPersons(), Types.STRING, Types.LONG)
            .executeAndCollect()) {
      it.forEachRemaining(n -> {});
    } catch (Exception e) {
      problems.add(
          "persons state of "
              + enrichUid
              + " does not restore with the new code: "
              + rootMessage(e));
    }
    return problems;
  }

  /** The innermost message of a cause chain (Flink wraps the reason several times). */
  public static String rootMessage(Throwable t) {
    Throwable root = t;
    String message = t.getMessage();
    while (root.getCause() != null) {
      root = root.getCause();
      if (root.getMessage() != null) {
        message = root.getMessage();
      }
    }
    return message;
  }

  /** Registers both person states with the new descriptors and reads every person once. */
  static final class TouchPersons extends KeyedStateReaderFunction<String, Long> {
    private transient MapState<String, ?> persons;
    private transient MapState<String, String> links;

    @Override
    public void open(OpenContext openContext) {
      MapStateDescriptor<String, ?> descriptor = EnrichWithPerson.personsDescriptor();
      persons = getRuntimeContext().getMapState(descriptor);
      links = getRuntimeContext().getMapState(EnrichWithPerson.personIdByDistinctIdDescriptor());
    }

    @Override
    public void readKey(String project, Context ctx, Collector<Long> out) throws Exception {
      long n = 0;
      for (Object ignored : persons.values()) {
        n++;
      }
      for (String ignored : links.keys()) {
        n++;
      }
      out.collect(n);
    }
  }
}
