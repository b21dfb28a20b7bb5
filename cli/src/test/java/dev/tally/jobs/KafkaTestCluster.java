package dev.tally.jobs;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.configuration.Configuration;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** A real in-process Kafka broker (KRaft, combined node) for integration tests. */
final class KafkaTestCluster implements AutoCloseable {
  private final KafkaClusterTestKit cluster;

  private KafkaTestCluster(KafkaClusterTestKit cluster) {
    this.cluster = cluster;
  }

  static KafkaTestCluster start() throws Exception {
    KafkaClusterTestKit kit =
        new KafkaClusterTestKit.Builder(
                new TestKitNodes.Builder()
                    .setCombined(true)
                    .setNumBrokerNodes(1)
                    .setNumControllerNodes(1)
                    .build())
            .setConfigProp("offsets.topic.replication.factor", "1")
            .setConfigProp("transaction.state.log.replication.factor", "1")
            .setConfigProp("transaction.state.log.min.isr", "1")
            .setConfigProp("group.initial.rebalance.delay.ms", "0")
            .build();
    kit.format();
    kit.startup();
    kit.waitForReadyBrokers();
    return new KafkaTestCluster(kit);
  }

  String bootstrapServers() {
    return cluster.bootstrapServers();
  }

  void createTopic(String name, int partitions) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
    }
  }

  void produce(String topic, List<byte[][]> keyValues) {
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      for (byte[][] kv : keyValues) {
        producer.send(new ProducerRecord<>(topic, kv[0], kv[1]));
      }
      producer.flush();
    }
  }

  /** Sends values to explicit partitions: {partition, value} pairs. */
  void produceToPartitions(String topic, List<Object[]> partitionValues) {
    try (KafkaProducer<byte[], byte[]> producer = producer()) {
      for (Object[] pv : partitionValues) {
        producer.send(new ProducerRecord<>(topic, (Integer) pv[0], null, (byte[]) pv[1]));
      }
      producer.flush();
    }
  }

  private KafkaProducer<byte[], byte[]> producer() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers());
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    return new KafkaProducer<>(p);
  }

  /** Set by an IT class that runs its tests on another persons layout; null: the default. */
  static volatile String personsLayout;

  /** The persons layout the ITs run on now; null: the default. */
  static String personsLayout() {
    return personsLayout != null ? personsLayout : System.getenv("TALLY_IT_PERSONS_LAYOUT");
  }

  /** Persons keyed below the project: a merge is applied a few checkpoints after it was read. */
  static boolean distinctIdLayout() {
    return dev.tally.jobs.JobOptions.LAYOUT_DISTINCT_ID.equals(personsLayout());
  }

  /**
   * The ingestion job's configuration for one generation with its own topics ({@code raw_<suffix>},
   * {@code enriched_<suffix>}, {@code dlq_<suffix>}, {@code late_<suffix>}) on this broker and the
   * given PostgreSQL, checkpoints every 500 ms.
   */
  Configuration jobConfig(
      String generation,
      String suffix,
      dev.tally.sinks.PostgresForTests postgres,
      java.nio.file.Path passwordFile)
      throws java.io.IOException {
    postgres.writerConfig(passwordFile);
    Configuration config = new Configuration();
    config.setString("tally.generation", generation);
    config.setString("tally.kafka.bootstrap-servers", bootstrapServers());
    config.setString("tally.topic.raw", "raw_" + suffix);
    config.setString("tally.topic.enriched", "enriched_" + suffix);
    config.setString("tally.topic.dead-letter", "dlq_" + suffix);
    config.setString("tally.topic.late", "late_" + suffix);
    config.setString("tally.postgres.url", postgres.url());
    config.setString("tally.postgres.user", dev.tally.sinks.PostgresForTests.WRITER_USER);
    config.setString("tally.postgres.password-file", passwordFile.toString());
    config.setString("tally.checkpoint-interval", "500ms");
    // the distinct-id persons layout (docs/scale-out.md §14) for the IT classes that set it (the
    // *DistinctIdIT subclasses), or for any unbounded IT with TALLY_IT_PERSONS_LAYOUT=distinct-id
    String layout = personsLayout();
    if (layout != null && !layout.isBlank()) {
      config.setString("tally.persons.layout", layout);
    }
    return config;
  }

  /** Every committed record of a topic, read with isolation.level=read_committed. */
  List<ConsumerRecord<byte[], byte[]>> readCommitted(String topic) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrapServers());
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> partitions =
          consumer.partitionsFor(topic).stream()
              .map(info -> new TopicPartition(topic, info.partition()))
              .toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.currentTimeMillis() + 30_000;
      while (System.currentTimeMillis() < deadline) {
        boolean done = true;
        for (TopicPartition tp : partitions) {
          if (consumer.position(tp) < end.get(tp)) {
            done = false;
          }
        }
        if (done) {
          break;
        }
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }

  @Override
  public void close() throws Exception {
    cluster.close();
  }
}
