package dev.tally.savepoints.audit;

import dev.tally.sinks.postgres.CommittedRows;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The seed incident: "a database writer failed silently for a day". Everything the ledger checks
 * can hold while nothing is written at all; these checks see that. A live generation commits a
 * progress row every checkpoint even when idle, so a generation that has not committed for longer
 * than the threshold is stalled, whatever the reason (a revoked grant, a job that keeps restarting,
 * a full disk); records waiting in the raw topic beyond its committed offsets say how much is held
 * up and since when; the job's state and last exception say why.
 */
public final class Stalls {
  private Stalls() {}

  /** What the cluster says about the generation's job, when a cluster can be asked. */
  public record JobHealth(
      String jobId, org.apache.flink.api.common.JobStatus state, String lastException) {
    @Override
    public String toString() {
      if (jobId == null) {
        return "no job of the generation runs on the cluster (deploy it, or flip analysts to the"
            + " generation that runs)";
      }
      return "job "
          + jobId
          + " is "
          + state
          + (lastException == null ? "" : "; its last exception: " + lastException);
    }
  }

  /** Records in the raw topic beyond the committed offsets. */
  record Pending(long records, int partitions, Instant oldest) {}

  /**
   * The stall checks of a live generation.
   *
   * @param health the job's state, or null when no cluster can be asked
   */
  public static List<Audit.Check> checks(
      Connection db,
      String generation,
      String bootstrap,
      String rawTopic,
      Duration stallAfter,
      JobHealth health,
      Instant now)
      throws Exception {
    Instant lastCommit = CommittedRows.lastCommit(db, generation);
    Instant registered = CommittedRows.registeredAt(db, generation);
    Pending pending = pending(db, generation, bootstrap, rawTopic);
    List<Audit.Check> checks = new ArrayList<>();
    Instant since = lastCommit != null ? lastCommit : registered;
    boolean committing = since == null || !since.plus(stallAfter).isBefore(now);
    String why = health == null ? "" : "; " + health;
    checks.add(
        new Audit.Check(
            "the generation committed within the last " + stallAfter.toSeconds() + " s",
            committing,
            "a commit within " + stallAfter.toSeconds() + " s",
            (lastCommit == null
                    ? "no commit since it was registered at " + registered
                    : "last commit at "
                        + lastCommit
                        + " ("
                        + Duration.between(lastCommit, now).toSeconds()
                        + " s ago)")
                + (pending.records() == 0
                    ? ""
                    : "; " + describe(pending) + " wait beyond the committed offsets")
                + (committing ? "" : why)));
    boolean waiting =
        pending.records() > 0
            && pending.oldest() != null
            && pending.oldest().plus(stallAfter).isBefore(now);
    checks.add(
        new Audit.Check(
            "no record waits in the raw topic beyond the committed offsets for more than "
                + stallAfter.toSeconds()
                + " s",
            !waiting,
            "none",
            pending.records() == 0
                ? "none"
                : describe(pending) + (waiting ? why : " (recent: in flight)")));
    return checks;
  }

  private static String describe(Pending p) {
    return String.format(
        "%,d records on %d partition(s)%s",
        p.records(), p.partitions(), p.oldest() == null ? "" : ", the oldest since " + p.oldest());
  }

  /**
   * For each partition of the raw topic the generation has committed offsets of, the records after
   * them and the append time of the first one (Kafka's record timestamp: when it was sent).
   */
  static Pending pending(Connection db, String generation, String bootstrap, String rawTopic)
      throws Exception {
    Map<TopicPartition, Long> committed = new HashMap<>();
    for (CommittedRows.SourceOffsets o : CommittedRows.sourceOffsets(db, generation)) {
      if (o.topic().equals(rawTopic)) {
        committed.put(new TopicPartition(rawTopic, o.partition()), o.nextOffset());
      }
    }
    if (committed.isEmpty()) {
      return new Pending(0, 0, null);
    }
    Properties p = new Properties();
    p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
    p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    long records = 0;
    int partitions = 0;
    Instant oldest = null;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      Map<TopicPartition, Long> end = consumer.endOffsets(committed.keySet());
      for (Map.Entry<TopicPartition, Long> e : committed.entrySet()) {
        long behind = end.getOrDefault(e.getKey(), 0L) - e.getValue();
        if (behind <= 0) {
          continue;
        }
        records += behind;
        partitions++;
        consumer.assign(List.of(e.getKey()));
        consumer.seek(e.getKey(), e.getValue());
        long deadline = System.currentTimeMillis() + 5_000;
        while (System.currentTimeMillis() < deadline) {
          List<ConsumerRecord<byte[], byte[]>> polled =
              consumer.poll(Duration.ofMillis(200)).records(e.getKey());
          if (!polled.isEmpty()) {
            Instant sent = Instant.ofEpochMilli(polled.get(0).timestamp());
            oldest = oldest == null || sent.isBefore(oldest) ? sent : oldest;
            break;
          }
        }
      }
    }
    return new Pending(records, partitions, oldest);
  }
}
