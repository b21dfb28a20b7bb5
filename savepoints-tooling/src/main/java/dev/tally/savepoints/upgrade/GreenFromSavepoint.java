package dev.tally.savepoints.upgrade;

import dev.tally.jobs.IngestionJob;
import dev.tally.jobs.JobOptions;
import dev.tally.jobs.TallyTopology;
import dev.tally.savepoints.Poll;
import dev.tally.savepoints.SavepointInspection;
import dev.tally.savepoints.SavepointSurgery;
import dev.tally.sinks.kafka.LoopInheritance;
import dev.tally.sinks.kafka.LoopTopic;
import dev.tally.sinks.postgres.CommittedRows;
import dev.tally.sinks.postgres.GenerationCopy;
import dev.tally.sinks.postgres.PostgresWriterState;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplitSerializer;
import org.apache.flink.core.io.SimpleVersionedSerialization;

/**
 * Starting green from blue's savepoint as a new generation (docs/decisions.md 26). Green restores
 * every operator's state from the savepoint except the sinks', and starts with blue's rows as of
 * that savepoint, so analysts see the same numbers after the flip:
 *
 * <ol>
 *   <li>{@link GenerationCopy#hold} blue's compaction before the savepoint, so the row versions as
 *       of the savepoint survive until they are copied;
 *   <li>{@link #boundary}: per sink subtask, the transaction blue prepared at the savepoint's
 *       barrier (from blue's PostgreSQL writer state in the savepoint);
 *   <li>{@link #awaitCommitted}: blue commits those with its next checkpoint (an intermediate
 *       savepoint commits nothing itself);
 *   <li>{@link #stripSinkState}: a copy of the savepoint without the sinks' state — restored,
 *       blue's Kafka transactional ids and PostgreSQL committables would be green's, and green's
 *       Kafka writer would fence the still-running blue; nor the persons loop's source and writer
 *       state (green reads its own loop topic from its start);
 *   <li>{@link #inheritLoop} (distinct-id persons layout): blue's person-protocol messages in
 *       flight at the savepoint, copied into green's loop topic (docs/scale-out.md §14);
 *   <li>{@link GenerationCopy#copyRows}: blue's newest row versions from transactions up to the
 *       boundary become green's, with their revisions (green's keyed state continues from exactly
 *       those), and the inherited ledger totals are recorded in {@code
 *       tally.generation_inheritance} (green's own Kafka outputs hold only what green processed;
 *       the audit subtracts them).
 * </ol>
 */
public final class GreenFromSavepoint {
  private GreenFromSavepoint() {}

  /**
   * Per sink subtask, the number of the transaction (its {@code tally.sink_commits.checkpoint})
   * that blue prepared at the savepoint's barrier: the savepoint covers exactly blue's rows from
   * transactions up to these.
   */
  public record Boundary(Map<Integer, Long> preparedBySubtask) {}

  /** Reads the boundary from blue's PostgreSQL writer state in the savepoint. */
  public static Boundary boundary(String savepoint) throws Exception {
    PostgresWriterState.Serializer serializer = new PostgresWriterState.Serializer();
    Map<Integer, Long> prepared = new TreeMap<>();
    for (byte[] raw :
        SavepointSurgery.sinkWriterStates(savepoint, TallyTopology.Uids.SINK_AGGREGATES)) {
      PostgresWriterState s =
          SimpleVersionedSerialization.readVersionAndDeSerialize(serializer, raw);
      if (s.preparedTransaction() == PostgresWriterState.UNKNOWN) {
        throw new IllegalStateException(
            "the savepoint was taken by a Tally release that did not record its PostgreSQL"
                + " transactions; upgrade blue in place first, or use --green-start recount");
      }
      prepared.put(s.subtask(), s.preparedTransaction());
    }
    if (prepared.isEmpty()) {
      throw new IllegalStateException(
          "the savepoint has no PostgreSQL sink state (uid "
              + TallyTopology.Uids.SINK_AGGREGATES
              + "): not a savepoint of a Tally ingestion job");
    }
    return new Boundary(prepared);
  }

  /**
   * Waits until blue has committed every transaction the savepoint covers. Fails after {@code
   * timeout} (blue not checkpointing: green would start from rows that may never commit).
   */
  public static void awaitCommitted(
      Callable<Connection> admin, String blue, Boundary boundary, Duration timeout)
      throws Exception {
    List<Integer> waiting = new ArrayList<>();
    Boolean done =
        Poll.until(
            timeout,
            Duration.ofMillis(250),
            () -> {
              Map<Integer, Long> committed;
              try (Connection c = admin.call()) {
                committed =
                    CommittedRows.committedBySubtask(c, blue, IngestionJob.AGGREGATES_SINK_ID);
              }
              waiting.clear();
              boundary
                  .preparedBySubtask()
                  .forEach(
                      (subtask, prepared) -> {
                        if (committed.getOrDefault(subtask, -1L) < prepared) {
                          waiting.add(subtask);
                        }
                      });
              return waiting.isEmpty() ? Boolean.TRUE : null;
            });
    if (done == null) {
      throw new IllegalStateException(
          "blue did not commit the savepoint's transactions of sink subtasks "
              + waiting
              + " within "
              + timeout.toSeconds()
              + " s (is blue completing checkpoints?)");
    }
  }

  /** The uids of every sink operator (writers and committers) of the topology. */
  public static List<String> sinkStateUids() {
    List<String> uids = new ArrayList<>();
    for (String sink :
        List.of(
            TallyTopology.Uids.SINK_ENRICHED,
            TallyTopology.Uids.SINK_DEAD_LETTERS,
            TallyTopology.Uids.SINK_TOO_LATE,
            TallyTopology.Uids.SINK_AGGREGATES,
            TallyTopology.Uids.SINK_PERSONS)) {
      uids.addAll(SavepointSurgery.sinkOperatorUids(sink));
    }
    return uids;
  }

  /** Writes {@code target}: the savepoint without any sink state nor the persons loop's. */
  public static void stripSinkState(String savepoint, String target) throws Exception {
    List<String> uids = new ArrayList<>(sinkStateUids());
    uids.addAll(loopStateUids());
    SavepointSurgery.removeOperators(savepoint, uids, target);
  }

  /** The uids of the distinct-id layout's loop source and loop writer (and its committer). */
  public static List<String> loopStateUids() {
    List<String> uids = new ArrayList<>();
    uids.add(TallyTopology.Uids.SOURCE_LOOP);
    uids.addAll(SavepointSurgery.sinkOperatorUids(TallyTopology.Uids.SINK_LOOP));
    return uids;
  }

  /** Whether the savepoint was taken by a job on the distinct-id persons layout. */
  public static boolean hasLoop(String savepoint) throws Exception {
    String hex =
        org.apache.flink.state.api.OperatorIdentifier.forUid(TallyTopology.Uids.SOURCE_LOOP)
            .getOperatorId()
            .toHexString();
    return SavepointInspection.metadata(savepoint).operators().stream()
        .anyMatch(o -> hex.equals(o.operatorId()));
  }

  /**
   * Blue's loop-source position per loop partition in the savepoint (the next offset each reader
   * would have read); partitions no reader held are absent.
   */
  public static Map<Integer, Long> loopPositions(String savepoint) throws Exception {
    KafkaPartitionSplitSerializer serializer = new KafkaPartitionSplitSerializer();
    Map<Integer, Long> positions = new TreeMap<>();
    for (byte[] raw :
        SavepointSurgery.sourceReaderStates(savepoint, TallyTopology.Uids.SOURCE_LOOP)) {
      KafkaPartitionSplit split =
          SimpleVersionedSerialization.readVersionAndDeSerialize(serializer, raw);
      positions.put(split.getPartition(), split.getStartingOffset());
    }
    return positions;
  }

  /**
   * With the distinct-id persons layout, copies the loop messages blue had in flight at the
   * savepoint into green's loop topic (docs/scale-out.md §14); call after {@link #awaitCommitted}.
   * Returns null on the project layout. Refuses a change of layout through a savepoint.
   *
   * @param loopPrefix {@code tally.topic.persons-loop} of both generations
   */
  public static LoopInheritance.Copied inheritLoop(
      String savepoint,
      boolean greenDistinctId,
      String bootstrapServers,
      String loopPrefix,
      String blue,
      String green,
      Duration timeout)
      throws Exception {
    boolean blueDistinctId = hasLoop(savepoint);
    if (blueDistinctId != greenDistinctId) {
      throw new IllegalStateException(
          "blue runs the "
              + (blueDistinctId ? "distinct-id" : "project")
              + " persons layout and green would run the "
              + (greenDistinctId ? "distinct-id" : "project")
              + " one: persons state does not convert through a savepoint; keep "
              + JobOptions.PERSONS_LAYOUT.key()
              + " as blue has it, or recount green: --green-start recount");
    }
    if (!blueDistinctId) {
      return null;
    }
    return LoopInheritance.copy(
        bootstrapServers,
        LoopTopic.name(loopPrefix, blue),
        loopPositions(savepoint),
        SavepointInspection.metadata(savepoint).checkpointId(),
        LoopTopic.name(loopPrefix, green),
        "tally-" + green + "-loop-inheritance",
        timeout);
  }
}
