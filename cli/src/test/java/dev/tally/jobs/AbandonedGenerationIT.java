package dev.tally.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tally.savepoints.upgrade.ReleaseGeneration;
import dev.tally.sinks.kafka.OpenTransactions;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/**
 * An abandoned generation (a cancelled job, the demo's Ctrl-C, an aborted green) leaves nothing
 * behind: its open Kafka transaction, which hid every later record from read_committed readers, is
 * aborted the way the connector's own recovery does it, and its prepared PostgreSQL transaction is
 * rolled back — and nothing of a neighbouring generation whose name shares its prefix is touched.
 */
class AbandonedGenerationIT extends EndToEndTest {

  @Test
  void shouldReleaseTheOpenTransactionsOfAnAbandonedGenerationAndNothingElse() throws Exception {
    kafka.createTopic("enriched_ab", 1);
    // a sink writer of generation "ab" with an open transaction, as a cancel leaves it
    KafkaProducer<byte[], byte[]> abandoned = transactional("tally-ab-enriched-0-7");
    abandoned.beginTransaction();
    abandoned.send(new ProducerRecord<>("enriched_ab", "lost".getBytes())).get();
    // a running neighbour "abc" with its own open transaction, which must stay open
    KafkaProducer<byte[], byte[]> neighbour = transactional("tally-abc-enriched-0-3");
    neighbour.beginTransaction();
    neighbour.send(new ProducerRecord<>("enriched_ab", "neighbour".getBytes())).get();
    kafka.produce(
        "enriched_ab",
        java.util.Collections.singletonList(new byte[][] {null, "after".getBytes()}));
    try (Connection c = postgres.admin();
        Statement s = c.createStatement()) {
      for (String gid : List.of("tally_ab_aggregates_0_7", "tally_abc_aggregates_1_3")) {
        s.execute("BEGIN");
        s.execute("SELECT txid_current()"); // a transaction id, so there is something to prepare
        s.execute("PREPARE TRANSACTION '" + gid + "'");
      }
    }
    assertThat(readCommitted("enriched_ab")).as("blocked by the open transaction").isZero();
    List<OpenTransactions.Open> open = OpenTransactions.list(kafka.bootstrapServers());
    assertThat(open)
        .extracting(OpenTransactions.Open::transactionalId)
        .contains("tally-ab-enriched-0-7", "tally-abc-enriched-0-3");
    OpenTransactions.Open ab =
        open.stream().filter(o -> o.generation().equals("ab")).findFirst().orElseThrow();
    assertThat(ab.partitions()).containsExactly("enriched_ab/0");
    assertThat(ab.since()).isBefore(Instant.now().plusSeconds(1));

    ReleaseGeneration.Released released;
    try (Connection c = postgres.admin()) {
      released = ReleaseGeneration.release(c, kafka.bootstrapServers(), "ab");
    }
    assertThat(released.kafkaTransactions()).containsExactly("tally-ab-enriched-0-7");
    assertThat(released.preparedTransactions()).containsExactly("tally_ab_aggregates_0_7");
    assertThat(postgres.preparedTransactions()).containsExactly("tally_abc_aggregates_1_3");
    assertThat(OpenTransactions.list(kafka.bootstrapServers()))
        .extracting(OpenTransactions.Open::transactionalId)
        .containsExactly("tally-abc-enriched-0-3");

    neighbour.commitTransaction(); // the neighbour was not fenced
    assertThat(readCommitted("enriched_ab"))
        .as("the neighbour's record and the one after; the abandoned one aborted")
        .isEqualTo(2);
    neighbour.close();
    abandoned.close(Duration.ZERO);
    try (Connection c = postgres.admin()) {
      ReleaseGeneration.release(c, kafka.bootstrapServers(), "abc");
    }
    assertThat(postgres.preparedTransactions()).isEmpty();
  }

  @Test
  void shouldTellABlockingTransactionApartAndNameTheCommandThatReleasesIt() {
    OpenTransactions.Open old =
        new OpenTransactions.Open(
            "tally-g7-enriched-1-42",
            "g7",
            Instant.now().minusSeconds(300),
            List.of("events_enriched/1"));
    OpenTransactions.Open fresh =
        new OpenTransactions.Open(
            "tally-g8-enriched-0-9",
            "g8",
            Instant.now().minusSeconds(1),
            List.of("events_enriched/0"));
    var blocking =
        dev.tally.savepoints.audit.AuditAccess.openTooLong(
            List.of(old, fresh), Duration.ofSeconds(30));
    assertThat(blocking).containsExactly(old);
    var check =
        dev.tally.savepoints.audit.AuditAccess.openTransactionsCheck(
            blocking, Duration.ofSeconds(30));
    assertThat(check.ok()).isFalse();
    assertThat(check.actual())
        .contains("blocked by an open transaction of generation g7")
        .contains("tally-g7-enriched-1-42")
        .contains("events_enriched/1")
        .contains("./tally release --generation g7");
    assertThat(
            dev.tally.savepoints.audit.AuditAccess.openTransactionsCheck(
                    List.of(), Duration.ofSeconds(30))
                .ok())
        .isTrue();
  }

  private KafkaProducer<byte[], byte[]> transactional(String id) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("transactional.id", id);
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
    producer.initTransactions();
    return producer;
  }

  /** Records a read_committed reader gets within a few seconds. */
  private int readCommitted(String topic) {
    Properties p = new Properties();
    p.put("bootstrap.servers", kafka.bootstrapServers());
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("isolation.level", "read_committed");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      int n = 0;
      long deadline = System.currentTimeMillis() + 4000;
      while (System.currentTimeMillis() < deadline) {
        n += consumer.poll(Duration.ofMillis(200)).count();
      }
      return n;
    }
  }
}
