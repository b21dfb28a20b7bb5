package dev.tally.savepoints;

import dev.tally.avro.PersonState;
import dev.tally.operators.functions.Deduplicate;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.functions.KeyedStateReaderFunction;
import org.apache.flink.state.api.runtime.SavepointLoader;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.Collector;

/**
 * What a savepoint holds, for {@code tally inspect}: its operators (uid, name, parallelism, state
 * size) from the metadata, and — read with the State Processor API on RocksDB — how many persons
 * and dedup keys it carries, or one person by distinct_id.
 */
public final class SavepointInspection {
  private SavepointInspection() {}

  /** One operator's state in the savepoint. */
  public record OperatorEntry(
      String uid,
      String name,
      String operatorId,
      int parallelism,
      int maxParallelism,
      long bytes) {}

  /** The savepoint's metadata. */
  public record Metadata(String path, long checkpointId, List<OperatorEntry> operators) {
    public long totalBytes() {
      return operators.stream().mapToLong(OperatorEntry::bytes).sum();
    }

    public boolean has(String uid) {
      return operators.stream().anyMatch(o -> uid.equals(o.uid()));
    }
  }

  /** Thrown when the path is not a readable savepoint (a user mistake, reported in one line). */
  public static final class NotASavepoint extends IOException {
    public NotASavepoint(String message) {
      super(message);
    }
  }

  public static Metadata metadata(String path) throws IOException {
    if (path.startsWith("file:") || !path.contains(":")) {
      Path local = path.startsWith("file:") ? Path.of(java.net.URI.create(path)) : Path.of(path);
      if (!Files.exists(local)) {
        throw new NotASavepoint("no such savepoint: " + path);
      }
      if (!Files.exists(local.resolve("_metadata")) && !local.endsWith("_metadata")) {
        throw new NotASavepoint(path + " is not a savepoint (no _metadata file in it)");
      }
      path = local.toAbsolutePath().toUri().toString();
    }
    CheckpointMetadata m;
    try {
      m = SavepointLoader.loadSavepointMetadata(path);
    } catch (FileNotFoundException e) {
      throw new NotASavepoint("no such savepoint: " + path);
    } catch (IOException | RuntimeException e) {
      throw new NotASavepoint(path + " is not a readable savepoint: " + e.getMessage());
    }
    List<OperatorEntry> operators = new ArrayList<>();
    for (OperatorState s : m.getOperatorStates()) {
      operators.add(
          new OperatorEntry(
              s.getOperatorUid().orElse(""),
              s.getOperatorName().orElse(""),
              s.getOperatorID().toHexString(),
              s.getParallelism(),
              s.getMaxParallelism(),
              s.getStateSize()));
    }
    operators.sort(Comparator.comparing(OperatorEntry::uid).thenComparing(OperatorEntry::name));
    return new Metadata(path, m.getCheckpointId(), operators);
  }

  /** Number of persons held by the enrichment operator {@code enrichUid}. */
  public static long countPersons(StreamExecutionEnvironment env, String path, String enrichUid)
      throws Exception {
    return count(PersonsSavepoint.read(env, path, enrichUid).executeAndCollect());
  }

  /** The persons of {@code project} that {@code distinctId} belongs to (zero or one). */
  public static List<Tuple2<String, PersonState>> person(
      StreamExecutionEnvironment env,
      String path,
      String enrichUid,
      String project,
      String distinctId)
      throws Exception {
    List<Tuple2<String, PersonState>> found = new ArrayList<>();
    try (CloseableIterator<Tuple2<String, PersonState>> it =
        PersonsSavepoint.read(env, path, enrichUid)
            .filter(
                t ->
                    t.f0.equals(project)
                        && t.f1.getDistinctIds().stream()
                            .anyMatch(id -> id.toString().equals(distinctId)))
            .returns(PersonsSavepoint.PROJECT_PERSON)
            .executeAndCollect()) {
      it.forEachRemaining(found::add);
    }
    return found;
  }

  /**
   * Number of (project, uuid) keys the dedup operator {@code dedupUid} remembers. The job's
   * retention is not in the savepoint: entries are read as written with a retention (the streaming
   * default) and, if that does not match, as written without one.
   */
  public static long countDedupKeys(StreamExecutionEnvironment env, String path, String dedupUid)
      throws Exception {
    try {
      return countDedupKeys(env, path, dedupUid, Duration.ofDays(36500));
    } catch (Exception withRetentionDidNotMatch) {
      return countDedupKeys(env, path, dedupUid, null);
    }
  }

  private static long countDedupKeys(
      StreamExecutionEnvironment env, String path, String dedupUid, Duration retention)
      throws Exception {
    return count(
        SavepointReader.read(env, path, new EmbeddedRocksDBStateBackend())
            .readKeyedState(
                OperatorIdentifier.forUid(dedupUid),
                new CountSeen(retention),
                Types.STRING,
                Types.LONG)
            .executeAndCollect());
  }

  private static long count(CloseableIterator<?> it) throws Exception {
    try (it) {
      long n = 0;
      while (it.hasNext()) {
        Object next = it.next();
        n += next instanceof Long l ? l : 1;
      }
      return n;
    }
  }

  /** Emits 1 per (project, uuid) it remembers (an expired entry reads as absent). */
  static final class CountSeen extends KeyedStateReaderFunction<String, Long> {
    private final Duration retention;
    private transient ValueState<Boolean> seen;

    CountSeen(Duration retention) {
      this.retention = retention;
    }

    @Override
    public void open(OpenContext openContext) {
      seen = getRuntimeContext().getState(Deduplicate.seenDescriptor(retention));
    }

    @Override
    public void readKey(String projectAndUuid, Context ctx, Collector<Long> out) throws Exception {
      if (seen.value() != null) {
        out.collect(1L);
      }
    }
  }
}
