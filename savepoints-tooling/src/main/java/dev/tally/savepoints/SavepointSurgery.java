package dev.tally.savepoints;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.state.api.OperatorIdentifier;
import org.apache.flink.state.api.SavepointReader;
import org.apache.flink.state.api.SavepointWriter;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * Reads and rewrites operator state of an existing savepoint with the State Processor API, in this
 * JVM (local execution, RocksDB). The source savepoint is never modified; a rewrite is a new,
 * self-contained savepoint (the state files it keeps are copied into it).
 */
public final class SavepointSurgery {
  private SavepointSurgery() {}

  /**
   * The Flink uids of a Sink V2 sink declared with {@code .uid(uid)}: its writer carries the uid
   * itself, its committer {@code "Sink Committer: " + uid} (Flink's SinkTransformationTranslator).
   */
  public static List<String> sinkOperatorUids(String sinkUid) {
    return List.of(sinkUid, "Sink Committer: " + sinkUid);
  }

  /**
   * Each subtask's state of a Sink V2 writer, in {@code SimpleVersionedSerialization} form: the
   * writer keeps it in the operator list state Flink's SinkWriterOperator names {@code
   * writer_raw_states}.
   */
  public static List<byte[]> sinkWriterStates(String savepoint, String sinkUid) throws Exception {
    return operatorListState(savepoint, sinkUid, "writer_raw_states");
  }

  /**
   * Each subtask's splits of a FLIP-27 source, in {@code SimpleVersionedSerialization} form: the
   * reader keeps them in the operator list state Flink's SourceOperator names {@code
   * SourceReaderState}. Splits the enumerator had not assigned are not in it.
   */
  public static List<byte[]> sourceReaderStates(String savepoint, String sourceUid)
      throws Exception {
    return operatorListState(savepoint, sourceUid, "SourceReaderState");
  }

  /**
   * Writes {@code target}: {@code source} without the state of the operators {@code uids} (they
   * start empty when a job restores it). Uids without state in {@code source} are ignored.
   */
  public static void removeOperators(String source, Collection<String> uids, String target)
      throws Exception {
    SavepointInspection.Metadata metadata = SavepointInspection.metadata(source);
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    SavepointWriter writer =
        SavepointWriter.fromExistingSavepoint(env, source, new EmbeddedRocksDBStateBackend());
    for (String uid : uids) {
      OperatorIdentifier id = OperatorIdentifier.forUid(uid);
      String hex = id.getOperatorId().toHexString();
      if (metadata.operators().stream().anyMatch(o -> hex.equals(o.operatorId()))) {
        writer = writer.removeOperator(id);
      }
    }
    writer.write(target);
    env.execute("remove operator state from " + source);
  }

  /**
   * The raw elements of an operator list state, e.g. a Sink V2 writer's {@code writer_raw_states}
   * (each element is its writer state in {@code SimpleVersionedSerialization} form).
   */
  public static List<byte[]> operatorListState(String savepoint, String uid, String stateName)
      throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    List<byte[]> elements = new ArrayList<>();
    try (CloseableIterator<byte[]> it =
        SavepointReader.read(env, savepoint, new EmbeddedRocksDBStateBackend())
            .readListState(
                OperatorIdentifier.forUid(uid),
                stateName,
                PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO)
            .executeAndCollect()) {
      it.forEachRemaining(elements::add);
    }
    return elements;
  }
}
