package dev.tally.sinks.kafka;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka transactions of Tally's exactly-once sinks that are still open, and their release.
 *
 * <p>A job that is cancelled, crashes and is never restored, or an aborted green leaves the
 * transaction each sink writer had open: it holds the partition's last stable offset until the
 * broker's transaction timeout, and every {@code read_committed} reader of the topic — the audit
 * and every downstream consumer — sees nothing written after it. Only a restore of the same
 * generation would abort it (the connector's recovery). {@link #abort} does what that recovery does
 * without a job: for each open transactional id of the generation it initialises a producer with
 * that id, which bumps the epoch, fences the old producer and aborts its open transaction. Never
 * call it while a job of the generation runs: that job would be fenced and restart.
 *
 * <p>Transactional ids are {@code tally-<generation>-<sink>-<subtask>-<checkpoint>} (generation
 * names are {@code [a-z0-9]}, so the prefix {@code tally-<generation>-} names exactly one).
 */
public final class OpenTransactions {
  private OpenTransactions() {}

  /** One open transaction: its id, the generation it belongs to, since when, where. */
  public record Open(
      String transactionalId, String generation, Instant since, List<String> partitions) {
    public Duration age(Instant now) {
      return since == null ? Duration.ZERO : Duration.between(since, now);
    }

    @Override
    public String toString() {
      return transactionalId
          + " since "
          + (since == null ? "?" : since)
          + " on "
          + String.join(",", partitions);
    }
  }

  /** The generation a transactional id of Tally's belongs to, or null for someone else's id. */
  public static String generationOf(String transactionalId) {
    if (!transactionalId.startsWith("tally-")) {
      return null;
    }
    int end = transactionalId.indexOf('-', "tally-".length());
    if (end < 0) {
      return null;
    }
    String g = transactionalId.substring("tally-".length(), end);
    return g.matches("[a-z0-9]{1,20}") ? g : null;
  }

  /** Every open (ongoing) transaction of any Tally generation, oldest first. */
  public static List<Open> list(String bootstrapServers) throws Exception {
    try (Admin admin = Admin.create(adminProps(bootstrapServers))) {
      Collection<TransactionListing> listings =
          admin
              .listTransactions(
                  new ListTransactionsOptions().filterStates(List.of(TransactionState.ONGOING)))
              .all()
              .get(15, TimeUnit.SECONDS);
      List<String> ids = new ArrayList<>();
      for (TransactionListing l : listings) {
        if (generationOf(l.transactionalId()) != null) {
          ids.add(l.transactionalId());
        }
      }
      if (ids.isEmpty()) {
        return List.of();
      }
      Map<String, TransactionDescription> described =
          admin.describeTransactions(ids).all().get(15, TimeUnit.SECONDS);
      List<Open> open = new ArrayList<>();
      described.forEach(
          (id, d) -> {
            if (d.state() != TransactionState.ONGOING) {
              return; // committed or aborted since it was listed
            }
            Instant since =
                d.transactionStartTimeMs().isPresent()
                    ? Instant.ofEpochMilli(d.transactionStartTimeMs().getAsLong())
                    : null;
            List<String> partitions =
                d.topicPartitions().stream()
                    .map(tp -> tp.topic() + "/" + tp.partition())
                    .sorted()
                    .toList();
            open.add(new Open(id, generationOf(id), since, partitions));
          });
      open.sort(Comparator.comparing(o -> o.since() == null ? Instant.EPOCH : o.since()));
      return open;
    }
  }

  /**
   * Aborts every open transaction of {@code generation} (fencing its producers) and returns their
   * ids. The caller makes sure no job of the generation runs.
   */
  public static List<String> abort(String bootstrapServers, String generation) throws Exception {
    List<String> aborted = new ArrayList<>();
    for (Open o : list(bootstrapServers)) {
      if (!generation.equals(o.generation())) {
        continue;
      }
      Properties p = new Properties();
      p.setProperty(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      p.setProperty(ProducerConfig.TRANSACTIONAL_ID_CONFIG, o.transactionalId());
      p.setProperty(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
      p.setProperty(
          ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      p.setProperty(
          ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
      try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
        producer.initTransactions(); // new epoch: the open transaction is aborted
      }
      aborted.add(o.transactionalId());
    }
    return aborted;
  }

  private static Properties adminProps(String bootstrapServers) {
    Properties props = new Properties();
    props.setProperty(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.setProperty(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.setProperty(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    return props;
  }
}
